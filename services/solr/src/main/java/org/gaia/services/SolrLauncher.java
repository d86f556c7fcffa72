package org.gaia.services;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.solr.client.solrj.SolrClient;
import org.apache.solr.client.solrj.request.CollectionAdminRequest;
import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.common.cloud.DocCollection;
import org.apache.solr.common.cloud.Replica;
import org.apache.solr.common.cloud.ZkStateReader;
import org.apache.solr.core.CoreContainer;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

/**
 * Starts a real Apache Solr 9 for Gaia's tests and demos, on 127.0.0.1 only.
 *
 * <p>Standalone (default): one {@link JettySolrRunner} serving {@code /solr}, with a solr home
 * it creates; the project's configset is copied to {@code <home>/configsets/<name>} on every
 * start, so CoreAdmin CREATE with {@code configSet=<name>} works, as do SWAP, RELOAD, UNLOAD.
 * The cores named with {@code --core} are created from that configset if they do not exist yet
 * (cores persist in the home across restarts, found by Solr's core discovery).
 *
 * <p>{@code --cloud}: a {@link MiniSolrCloudCluster} (SolrCloud with an embedded ZooKeeper on a
 * random ephemeral port) of {@code --nodes N} Jetty nodes (default 1), node {@code i} on port
 * {@code --port + i}; the configset is uploaded to ZooKeeper and each {@code --core} becomes a
 * one-shard collection with N replicas (one per node), so it stays readable and writable with
 * one node down. Its state does not survive a restart (the cluster's folder is wiped on start).
 *
 * <p>Stopping and starting one node while the cluster runs: write {@code down} or {@code up}
 * to {@code <home>/control/node-<i>.want}; the launcher polls these files every 100 ms, stops
 * or starts node {@code i} (same port, same cores) and then writes {@code down} (the node is
 * stopped and gone from ZooKeeper's live nodes) or {@code up} (the node is live in ZooKeeper
 * and every replica it hosts is active) to {@code <home>/control/node-<i>.state}, or {@code
 * failed: <reason>}. Deleting the state file asks again (stopping a stopped node, or starting
 * a running one, just checks and answers). {@code scripts/services.sh cloud-node stop|start I} does this and waits.
 *
 * <p>The process runs until SIGTERM/SIGINT, then shuts Solr down cleanly. A line starting with
 * {@code gaia-solr: ready} is printed once everything is up.
 */
public final class SolrLauncher {

  private static final String SOLR_XML =
      String.join(
          "\n",
          "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>",
          "<!-- Written by Gaia's SolrLauncher on every start; edits here are lost. -->",
          "<solr>",
          "  <str name=\"configSetBaseDir\">${configSetBaseDir:configsets}</str>",
          "  <int name=\"maxBooleanClauses\">${solr.max.booleanClauses:1024}</int>",
          "  <metrics enabled=\"${metricsEnabled:false}\"/>",
          "</solr>",
          "");

  private static void usage(String error) {
    if (error != null) {
      System.err.println("gaia-solr: " + error);
    }
    System.err.println(
        "usage: java -jar gaia-solr.jar --home DIR --configset DIR [--port 8983]"
            + " [--core NAME]... [--cloud [--nodes N]]\n"
            + "  --home DIR       solr home (created; holds solr.xml, configsets/, the cores)\n"
            + "  --configset DIR  a configset folder holding conf/ (its folder name is the"
            + " configset name)\n"
            + "  --port N         HTTP port on 127.0.0.1 (default 8983; 0 = any free port)\n"
            + "  --core NAME      core (or, with --cloud, collection) to create if missing;"
            + " repeatable\n"
            + "  --cloud          run SolrCloud with an embedded ZooKeeper instead\n"
            + "  --nodes N        with --cloud: N nodes on ports --port .. --port+N-1 (default 1);"
            + " collections get N replicas");
    System.exit(error == null ? 0 : 2);
  }

  public static void main(String[] args) throws Exception {
    Path home = null;
    Path configset = null;
    int port = 8983;
    boolean cloud = false;
    int nodes = 1;
    List<String> cores = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--home" -> home = Path.of(value(args, ++i, a)).toAbsolutePath();
        case "--configset" -> configset = Path.of(value(args, ++i, a)).toAbsolutePath();
        case "--port" -> port = Integer.parseInt(value(args, ++i, a));
        case "--core" -> cores.add(value(args, ++i, a));
        case "--cloud" -> cloud = true;
        case "--nodes" -> nodes = Integer.parseInt(value(args, ++i, a));
        case "-h", "--help" -> usage(null);
        default -> usage("unknown argument " + a);
      }
    }
    if (home == null || configset == null) {
      usage("--home and --configset are required");
    }
    if (!Files.isRegularFile(configset.resolve("conf/solrconfig.xml"))) {
      usage(configset + " has no conf/solrconfig.xml");
    }
    if (nodes < 1 || (!cloud && nodes != 1)) {
      usage("--nodes must be at least 1, and more than 1 only with --cloud");
    }
    String configName = configset.getFileName().toString();
    Files.createDirectories(home);

    long t0 = System.nanoTime();
    Runnable stop;
    String baseUrl;
    if (cloud) {
      Path base = home.resolve("cloud");
      deleteTree(base); // ZooKeeper state is not meant to outlive the process
      Files.createDirectories(base);
      // No nodes from the builder (it would give them all the same port): ZooKeeper, solr.xml
      // and the configset first, then one Jetty per port.
      MiniSolrCloudCluster cluster =
          new MiniSolrCloudCluster.Builder(0, base)
              .withJettyConfig(b -> b.setContext("/solr").stopAtShutdown(false))
              .addConfig(configName, configset.resolve("conf"))
              .build();
      List<JettySolrRunner> jettys = startNodes(cluster, port, nodes);
      cluster.waitForAllNodes(60);
      SolrClient client = cluster.getSolrClient();
      for (String core : cores) {
        CollectionAdminRequest.createCollection(core, configName, 1, nodes).process(client);
        cluster.waitForActiveCollection(core, 1, nodes);
      }
      baseUrl = jettys.get(0).getBaseUrl().toString();
      for (JettySolrRunner j : jettys) {
        System.out.println("gaia-solr: node " + j.getNodeName() + " at " + j.getBaseUrl());
      }
      System.out.println("gaia-solr: zookeeper at " + cluster.getZkServer().getZkAddress());
      NodeControl control = new NodeControl(cluster, jettys, home.resolve("control"));
      control.start();
      stop =
          () -> {
            try {
              control.interrupt();
              cluster.shutdown();
            } catch (Exception e) {
              e.printStackTrace();
            }
          };
    } else {
      Files.writeString(home.resolve("solr.xml"), SOLR_XML, StandardCharsets.UTF_8);
      Path target = home.resolve("configsets").resolve(configName);
      deleteTree(target);
      copyTree(configset, target);

      JettyConfig config =
          JettyConfig.builder().setPort(port).setContext("/solr").stopAtShutdown(false).build();
      JettySolrRunner jetty = new JettySolrRunner(home.toString(), new Properties(), config);
      jetty.start();
      CoreContainer cc = jetty.getCoreContainer();
      for (String core : cores) {
        if (cc.getCoreDescriptor(core) == null) {
          cc.create(core, Map.of("configSet", configName));
          System.out.println("gaia-solr: created core " + core + " from configset " + configName);
        }
      }
      baseUrl = jetty.getBaseUrl().toString();
      stop =
          () -> {
            try {
              jetty.stop();
            } catch (Exception e) {
              e.printStackTrace();
            }
          };
    }

    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("gaia-solr: stopping");
                  stop.run();
                  done.countDown();
                },
                "gaia-solr-shutdown"));
    System.out.printf(
        "gaia-solr: ready at %s (%s, cores %s, %d ms)%n",
        baseUrl,
        cloud ? "cloud, " + nodes + (nodes == 1 ? " node" : " nodes") : "standalone",
        cores, (System.nanoTime() - t0) / 1_000_000);
    System.out.flush();
    done.await();
  }

  /** Starts node i on port base + i (any free port when base is 0), all at once. */
  private static List<JettySolrRunner> startNodes(MiniSolrCloudCluster cluster, int base, int n)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<JettySolrRunner>> started = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        JettyConfig config =
            JettyConfig.builder()
                .setPort(base == 0 ? 0 : base + i)
                .setContext("/solr")
                .stopAtShutdown(false)
                .build();
        String name = "node" + i;
        started.add(pool.submit(() -> cluster.startJettySolrRunner(name, "/solr", config)));
      }
      List<JettySolrRunner> jettys = new ArrayList<>();
      for (Future<JettySolrRunner> f : started) {
        jettys.add(f.get());
      }
      return jettys;
    } finally {
      pool.shutdown();
    }
  }

  /**
   * Stops and starts single nodes on request: polls {@code node-<i>.want} in the control
   * folder and answers in {@code node-<i>.state} (see the class comment).
   */
  private static final class NodeControl extends Thread {
    private static final int TIMEOUT_S = 60;
    private final MiniSolrCloudCluster cluster;
    private final List<JettySolrRunner> jettys;
    private final String[] nodeNames;
    private final String[] done;
    private final Path dir;

    NodeControl(MiniSolrCloudCluster cluster, List<JettySolrRunner> jettys, Path dir)
        throws IOException {
      super("gaia-solr-node-control");
      setDaemon(true);
      this.cluster = cluster;
      this.jettys = jettys;
      this.dir = dir;
      this.nodeNames = new String[jettys.size()];
      this.done = new String[jettys.size()];
      deleteTree(dir);
      Files.createDirectories(dir);
      for (int i = 0; i < jettys.size(); i++) {
        nodeNames[i] = jettys.get(i).getNodeName();
        done[i] = "up";
        writeState(i, "up");
      }
    }

    @Override
    public void run() {
      while (!isInterrupted()) {
        for (int i = 0; i < jettys.size(); i++) {
          String want;
          try {
            Path f = dir.resolve("node-" + i + ".want");
            if (!Files.exists(f)) {
              continue;
            }
            want = Files.readString(f, StandardCharsets.UTF_8).trim();
          } catch (IOException e) {
            continue; // being written: read it next time
          }
          // A new wish, or the same one again with the state file removed (a retry).
          if (want.equals(done[i]) && Files.exists(dir.resolve("node-" + i + ".state"))) {
            continue;
          }
          done[i] = want;
          String state;
          try {
            if (!(want.equals("up") || want.equals("down"))) {
              throw new IllegalArgumentException("want " + want + ": must be up or down");
            }
            long t0 = System.nanoTime();
            if (want.equals("down")) {
              stopNode(i);
            } else {
              startNode(i);
            }
            state = want;
            System.out.printf(
                "gaia-solr: node %d (%s) %s in %d ms%n",
                i, nodeNames[i], want, (System.nanoTime() - t0) / 1_000_000);
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            e.printStackTrace();
            state = "failed: " + e.toString().replace('\n', ' ');
          }
          try {
            writeState(i, state);
          } catch (IOException e) {
            e.printStackTrace();
          }
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private void stopNode(int i) throws Exception {
      JettySolrRunner jetty = jettys.get(i);
      if (jetty.isRunning()) {
        cluster.stopJettySolrRunner(jetty);
        cluster.waitForJettyToStop(jetty);
      }
      String name = nodeNames[i];
      cluster
          .getZkStateReader()
          .waitForLiveNodes(TIMEOUT_S, TimeUnit.SECONDS, (o, n) -> n == null || !n.contains(name));
    }

    private void startNode(int i) throws Exception {
      JettySolrRunner jetty = jettys.get(i);
      if (!jetty.isRunning()) {
        cluster.startJettySolrRunner(jetty, true); // the same port
      }
      cluster.waitForNode(jetty, TIMEOUT_S);
      // Every replica on the node active again (recovered from its peers).
      String name = nodeNames[i];
      ZkStateReader reader = cluster.getZkStateReader();
      for (String coll : reader.getClusterState().getCollectionNames()) {
        reader.waitForState(
            coll,
            TIMEOUT_S,
            TimeUnit.SECONDS,
            (live, c) -> c == null || activeOn(c, name, live));
      }
    }

    private static boolean activeOn(DocCollection c, String node, java.util.Set<String> live) {
      for (Replica r : c.getReplicas()) {
        if (node.equals(r.getNodeName()) && !r.isActive(live)) {
          return false;
        }
      }
      return true;
    }

    private void writeState(int i, String state) throws IOException {
      Path tmp = dir.resolve("node-" + i + ".state.tmp");
      Files.writeString(tmp, state + "\n", StandardCharsets.UTF_8);
      Files.move(
          tmp,
          dir.resolve("node-" + i + ".state"),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    }
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      usage(flag + " needs a value");
    }
    return args[i];
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      paths.forEach(
          src -> {
            Path dst = to.resolve(from.relativize(src).toString());
            try {
              if (Files.isDirectory(src)) {
                Files.createDirectories(dst);
              } else {
                Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
              }
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
