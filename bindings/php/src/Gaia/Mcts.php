<?php
declare(strict_types=1);

namespace Gaia;

/**
 * A tree search over LLM answers (AB-MCTS-A by default, or a baseline), driven by ask/tell:
 * ask() hands out expansions (a node to refine, or the root 0 for a first answer, and an
 * action such as which model to call), the caller runs them however it likes (curl_multi,
 * Fibers) and tells each new answer's score in [0, 1]. save()/load() carry a search across
 * requests with identical draws.
 */
final class Mcts
{
    /** The most trials one ask() hands out (gaia-core's MAX_ASK). */
    public const MAX_ASK = 10000;

    private \FFI\CData $handle;

    /** @var list<string> */
    private array $actions = [];

    /**
     * @param array<string, mixed>|string $config ['actions' => ['small', 'large'], 'seed' => 1, ...]
     *        (see gaia_mcts_new), or that as JSON
     * @throws InvalidArgumentException malformed JSON (7) or a bad field (8; the message names it)
     */
    public function __construct(array|string $config)
    {
        if (is_array($config)) {
            $json = json_encode($config, JSON_PRESERVE_ZERO_FRACTION | JSON_UNESCAPED_UNICODE);
            if ($json === false) {
                throw new InvalidArgumentException('mcts config: ' . json_last_error_msg(), 7);
            }
            $config = $json;
        }
        $lib = FFI::lib();
        $out = $lib->new('gaia_mcts *');
        FFI::check($lib->gaia_mcts_new(FFI::text($config, 'config_json'), \FFI::addr($out)));
        $this->adopt($out);
    }

    /**
     * Restores a search from a snapshot written by save().
     *
     * @throws CorruptStateException a damaged snapshot (13) or a newer format (14)
     */
    public static function load(string $snapshot): self
    {
        $lib = FFI::lib();
        $out = $lib->new('gaia_mcts *');
        $buf = self::bytes($snapshot);
        FFI::check($lib->gaia_mcts_load($buf, strlen($snapshot), \FFI::addr($out)));
        $m = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $m->adopt($out);
        return $m;
    }

    private function adopt(\FFI\CData $handle): void
    {
        $this->handle = $handle;
        $lib = FFI::lib();
        for ($i = 0; ; $i++) {
            $name = $lib->new('char *');
            if ($lib->gaia_mcts_action_name($handle, $i, \FFI::addr($name)) !== 0) {
                break;
            }
            $this->actions[] = FFI::take($name);
        }
    }

    public function __destruct()
    {
        if (isset($this->handle)) {
            FFI::lib()->gaia_mcts_free($this->handle);
        }
    }

    /** Handles are not shareable between PHP objects: cloning is an \\Error, as in the extension. */
    public function __clone()
    {
        unset($this->handle);
        throw new \Error('Trying to clone an uncloneable object of class Gaia\\Mcts');
    }

    /** @return list<string> the configured actions, in index order */
    public function actions(): array
    {
        return $this->actions;
    }

    /**
     * Starts up to $n trials (at least one).
     *
     * @return list<array{id: int, node: int, action: string}>
     * @throws InvalidArgumentException $n outside 1..MAX_ASK (9)
     * @throws StateException the caps leave nothing to expand (12)
     */
    public function ask(int $n = 1): array
    {
        if ($n < 1 || $n > self::MAX_ASK) {
            // Checked before the trial buffer is allocated; the library's own message.
            throw new InvalidArgumentException(sprintf('ask needs n in 1..=%d, got %d', self::MAX_ASK, $n), 9);
        }
        $lib = FFI::lib();
        $buf = $lib->new("gaia_mcts_trial[$n]");
        $count = $lib->new('size_t');
        FFI::check($lib->gaia_mcts_ask($this->handle, $n, $buf, \FFI::addr($count)));
        $out = [];
        for ($i = 0; $i < $count->cdata; $i++) {
            $t = $buf[$i];
            $out[] = ['id' => $t->trial_id, 'node' => $t->node, 'action' => $this->actions[$t->action] ?? ''];
        }
        return $out;
    }

    /**
     * Adds a trial's new answer with its score in [0, 1] and, optionally, its text (binary
     * safe); returns the new node's id. Idempotent: a repeated tell returns the same node.
     *
     * @throws InvalidArgumentException a score outside [0, 1] or NaN (9)
     * @throws NotFoundException unknown trial (10)
     * @throws StateException abandoned trial (12)
     */
    public function tell(int $trialId, float $score, ?string $payload = null): int
    {
        $lib = FFI::lib();
        $node = $lib->new('uint32_t');
        $len = $payload === null ? 0 : strlen($payload);
        $buf = $payload === null ? null : self::bytes($payload);
        FFI::check($lib->gaia_mcts_tell($this->handle, self::id($trialId), $score, $buf, $len, \FFI::addr($node)));
        return $node->cdata;
    }

    /** tell() with an opaque integer id as payload (a key into your own storage). */
    public function tellId(int $trialId, float $score, int $payloadId): int
    {
        $lib = FFI::lib();
        $node = $lib->new('uint32_t');
        FFI::check($lib->gaia_mcts_tell_id($this->handle, self::id($trialId), $score, $payloadId, \FFI::addr($node)));
        return $node->cdata;
    }

    /** Gives up a trial whose call failed or timed out (twice is a no-op; after tell: 12). */
    public function abandon(int $trialId): void
    {
        FFI::check(FFI::lib()->gaia_mcts_abandon($this->handle, self::id($trialId)));
    }

    /**
     * Node $id (0 is the root): ['id', 'parent', 'depth', 'action', 'score', 'children',
     * 'payload_id', 'payload_len'].
     *
     * @return array<string, mixed>
     * @throws NotFoundException unknown node (10)
     */
    public function node(int $id): array
    {
        if ($id < 0) {
            throw new NotFoundException("node id must not be negative, got $id", 10);
        }
        $lib = FFI::lib();
        $out = $lib->new('char *');
        FFI::check($lib->gaia_mcts_node_json($this->handle, $id, \FFI::addr($out)));
        return json_decode(FFI::take($out), true, 512, JSON_THROW_ON_ERROR);
    }

    /** The text told with node $id, or null when it has none (or an id). */
    public function payload(int $id): ?string
    {
        if ($id < 0) {
            throw new NotFoundException("node id must not be negative, got $id", 10);
        }
        $lib = FFI::lib();
        $ptr = $lib->new('uint8_t *');
        $len = $lib->new('size_t');
        FFI::check($lib->gaia_mcts_node_payload($this->handle, $id, \FFI::addr($ptr), \FFI::addr($len)));
        return self::takeBytes($ptr, $len->cdata);
    }

    /**
     * The $k best answers, best first, as node() arrays.
     *
     * @return list<array<string, mixed>>
     */
    public function topK(int $k): array
    {
        $lib = FFI::lib();
        $out = $lib->new('char *');
        FFI::check($lib->gaia_mcts_top_k_json($this->handle, max(0, $k), \FFI::addr($out)));
        return json_decode(FFI::take($out), true, 512, JSON_THROW_ON_ERROR);
    }

    /** Nodes in the tree, the root included. */
    public function nodeCount(): int
    {
        $lib = FFI::lib();
        $n = $lib->new('size_t');
        FFI::check($lib->gaia_mcts_node_count($this->handle, \FFI::addr($n)));
        return $n->cdata;
    }

    /** The whole tree as JSON for visualisation. */
    public function exportJson(): string
    {
        $lib = FFI::lib();
        $out = $lib->new('char *');
        FFI::check($lib->gaia_mcts_export_json($this->handle, \FFI::addr($out)));
        return FFI::take($out);
    }

    /** The whole search as a binary snapshot for load() (store it as bytes, not text). */
    public function save(): string
    {
        $lib = FFI::lib();
        $ptr = $lib->new('uint8_t *');
        $len = $lib->new('size_t');
        FFI::check($lib->gaia_mcts_save($this->handle, \FFI::addr($ptr), \FFI::addr($len)));
        return self::takeBytes($ptr, $len->cdata) ?? '';
    }

    private static function bytes(string $s): ?\FFI\CData
    {
        $n = strlen($s);
        if ($n === 0) {
            return null;
        }
        $buf = FFI::lib()->new("uint8_t[$n]");
        \FFI::memcpy($buf, $s, $n);
        return $buf;
    }

    private static function takeBytes(\FFI\CData $ptr, int $len): ?string
    {
        if (\FFI::isNull($ptr)) {
            return null;
        }
        try {
            return \FFI::string($ptr, $len);
        } finally {
            FFI::lib()->gaia_bytes_free($ptr, $len);
        }
    }

    private static function id(int $id): int
    {
        if ($id < 0) {
            throw new NotFoundException("trial id must not be negative, got $id", 10);
        }
        return $id;
    }
}
