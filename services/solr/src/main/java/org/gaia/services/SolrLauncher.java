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
import java.util.stream.Stream;
import org.apache.solr.client.solrj.SolrClient;
import org.apache.solr.client.solrj.request.CollectionAdminRequest;
import org.apache.solr.cloud.MiniSolrCloudCluster;
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
 * <p>{@code --cloud}: a one-node {@link MiniSolrCloudCluster} (SolrCloud with an embedded
 * ZooKeeper on a random port) on the same port; the configset is uploaded to ZooKeeper and
 * each {@code --core} becomes a one-shard, one-replica collection. Its state does not survive
 * a restart (the cluster's folder is wiped on start).
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
            + " [--core NAME]... [--cloud]\n"
            + "  --home DIR       solr home (created; holds solr.xml, configsets/, the cores)\n"
            + "  --configset DIR  a configset folder holding conf/ (its folder name is the"
            + " configset name)\n"
            + "  --port N         HTTP port on 127.0.0.1 (default 8983; 0 = any free port)\n"
            + "  --core NAME      core (or, with --cloud, collection) to create if missing;"
            + " repeatable\n"
            + "  --cloud          run a one-node SolrCloud with embedded ZooKeeper instead");
    System.exit(error == null ? 0 : 2);
  }

  public static void main(String[] args) throws Exception {
    Path home = null;
    Path configset = null;
    int port = 8983;
    boolean cloud = false;
    List<String> cores = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--home" -> home = Path.of(value(args, ++i, a)).toAbsolutePath();
        case "--configset" -> configset = Path.of(value(args, ++i, a)).toAbsolutePath();
        case "--port" -> port = Integer.parseInt(value(args, ++i, a));
        case "--core" -> cores.add(value(args, ++i, a));
        case "--cloud" -> cloud = true;
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
    String configName = configset.getFileName().toString();
    Files.createDirectories(home);

    long t0 = System.nanoTime();
    Runnable stop;
    String baseUrl;
    if (cloud) {
      Path base = home.resolve("cloud");
      deleteTree(base); // ZooKeeper state is not meant to outlive the process
      Files.createDirectories(base);
      int p = port;
      MiniSolrCloudCluster cluster =
          new MiniSolrCloudCluster.Builder(1, base)
              .withJettyConfig(b -> b.setPort(p).setContext("/solr").stopAtShutdown(false))
              .addConfig(configName, configset.resolve("conf"))
              .build();
      SolrClient client = cluster.getSolrClient();
      for (String core : cores) {
        CollectionAdminRequest.createCollection(core, configName, 1, 1).process(client);
        cluster.waitForActiveCollection(core, 1, 1);
      }
      baseUrl = cluster.getJettySolrRunner(0).getBaseUrl().toString();
      System.out.println("gaia-solr: zookeeper at " + cluster.getZkServer().getZkAddress());
      stop =
          () -> {
            try {
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
        baseUrl, cloud ? "cloud" : "standalone", cores, (System.nanoTime() - t0) / 1_000_000);
    System.out.flush();
    done.await();
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
