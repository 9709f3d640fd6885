<?php
/**
 * workerman-standin.php - a stand-in for a Workerman 5.x application, for wmscope tests and demos.
 *
 * Real Workerman cannot be installed where wmscope is built (no Packagist), so this script copies
 * what an observer of /proc and of the kernel's sockets can see of a Workerman app, written from
 * scratch after reading how Workerman 5.0 behaves (src/Worker.php):
 *
 *  - Process titles, set with cli_set_process_title() exactly as Workerman does:
 *      master  "WorkerMan: master process  start_file=<start file>"
 *      worker  "WorkerMan: worker process  <worker name> <listen>"
 *    (two spaces after "process"; <listen> is the socket name as configured with its first
 *    letter lower-cased, e.g. "text://127.0.0.1:2347", "websocket://[::1]:8282",
 *    "unix:///tmp/app.sock", or "none" for a worker without a listener; the worker name
 *    defaults to "none"). Every command, not only `start`, first gives its own process the
 *    master title, as Workerman's init() does before it parses the command: a `status`,
 *    `connections`, `stop` or `reload` helper briefly looks like a second master.
 *    PHP truncates a title to the process's original argv+environ area, so with an almost
 *    empty environment (`env -i php ...`) /proc/PID/cmdline can read "WorkerMan: worker proc".
 *  - Listener layouts: reusePort=false (the default, as in Workerman): the master listens before
 *    forking and every worker inherits and selects on that one socket (the master never
 *    accepts; workers race, losers get EAGAIN). reusePort=true: each worker opens its own
 *    listening socket with SO_REUSEPORT after the fork. Backlog 102400, SO_KEEPALIVE and
 *    TCP_NODELAY on TCP listeners, non-blocking sockets, one stream_select() loop per worker
 *    that accepts one connection each time the listening socket is readable.
 *  - Master: forks `count` processes per worker definition, re-forks a worker that exits (the
 *    replacement has a new PID and reuses the free worker id), reloads on SIGUSR1 by replacing
 *    reloadable workers one at a time (SIGUSR1 to one worker, SIGKILL after stop_timeout if it
 *    lingers, fork its replacement, next), SIGUSR2 = graceful reload, SIGINT/SIGTERM/SIGHUP/
 *    SIGTSTP stop everything (SIGINT to workers, SIGKILL after stop_timeout), SIGQUIT = graceful
 *    stop, SIGIOT = status, SIGIO = connections, SIGPIPE ignored. The monitor loop blocks in
 *    pcntl_wait(WUNTRACED) like Workerman, so a worker stopped with SIGSTOP counts as gone and a
 *    replacement is forked (Workerman does the same). `start -d` daemonizes with umask(0), fork,
 *    setsid, fork: the daemon master's parent is PID 1 (or the nearest subreaper), and stdin,
 *    stdout and stderr of master and workers are reopened on stdout_file (default /dev/null),
 *    so a caller's pipes are released.
 *
 * Usage (like Workerman):
 *   php workerman-standin.php start [-d]       start in the foreground, or as a daemon with -d
 *   php workerman-standin.php stop [-g]        SIGINT (or SIGQUIT with -g) to the master, wait
 *   php workerman-standin.php restart [-d] [-g]
 *   php workerman-standin.php reload [-g]      SIGUSR1 (or SIGUSR2 with -g) to the master
 *   php workerman-standin.php status [-d]      SIGIOT to the master, wait 1 s, print; -d repeats
 *                                              every second until interrupted (a long-lived
 *                                              helper process with the master title)
 *   php workerman-standin.php connections      SIGIO to the master, wait 0.5 s, print
 * The commands find the master through the pid file, so they need the same configuration.
 *
 * Configuration: WMSCOPE_STANDIN_CONFIG holds the path of a JSON file, or the JSON itself when it
 * starts with "{". Every key is optional:
 *   {
 *     "start_file":    "/srv/chat/start.php",  shown in the master title (default: realpath of
 *                                              this script); need not exist, so tests can fake it
 *     "process_title": "WorkerMan",            Workerman's Worker::$processTitle
 *     "pid_file":      "/tmp/x.pid",           default: <tmp>/wmscope-standin<start_file with / -> _>.pid
 *     "stats_dir":     "/tmp/x-stats",         default: <tmp>/wmscope-standin<start_file with / -> _>.stats
 *     "stdout_file":   "/dev/null",            where a daemon's output goes
 *     "stop_timeout":  2,                      seconds before SIGKILL on stop/reload
 *     "stats_every_ms": 0,                     0: <pid>.json after every accept and close (tests);
 *                                              N: at most every N ms (benchmarks, bench/lib.sh:
 *                                              two file writes per connection made the worker's
 *                                              rate swing with the filesystem)
 *     "workers": [                             default: one text worker, 4 processes, 127.0.0.1:2347
 *       {"name": "Chat Worker", "protocol": "text", "host": "127.0.0.1", "port": 2347,
 *        "count": 4, "reusePort": true},
 *       {"name": "api", "listen": "http://[::1]:8080", "count": 2},
 *       {"name": "YourAppBusinessWorker", "protocol": "none"},
 *       {"name": "Register", "listen": "text://127.0.0.1:1238", "reloadable": false}
 *     ]
 *   }
 * "exit_at_start": N makes every process of a worker exit(N) right after it starts (a fatal
 * error in onWorkerStart: the master re-forks it, a crash loop).
 * GatewayWorker's shape: "inner": "text://HOST:PORT" gives each process of a worker an inner
 * listener on PORT + its worker id (a Gateway's lan port, in no title); "links": ["HOST:PORT", ...]
 * makes each process keep one connection to each endpoint (a BusinessWorker's to the Register
 * and every Gateway, a Gateway's to the Register), sending "hello NAME PID" and reconnecting once
 * a second while it is down ("link_delay_ms": N, the first try N ms after the process starts: a
 * BusinessWorker whose onWorkerStart is slow). Inner connections echo lines; what arrives on a
 * link is dropped.
 * A worker is either "listen" (a Workerman socket name, used verbatim) or "protocol" + "host" +
 * "port" (an IPv6 host is put in brackets). protocol: text (newline-delimited echo), http
 * (HTTP/1.1 keep-alive: GET / -> "hello\n", GET /bytes/N -> N bytes, /status/NNN -> that status,
 * /delay/MS -> 200 after blocking MS ms (usleep), /spin/MS -> 200 after MS ms on the CPU, /chunked/N -> N chunks each in its own send, anything
 * else 404),
 * websocket (RFC 6455 handshake, echoes text and binary messages, answers ping and close),
 * frame (Workerman's 4-byte big-endian length framing, echo), tcp (raw echo), unix (raw echo
 * on a unix socket, listen "unix:///path"), none (no listener). count defaults to 1,
 * reusePort to false, reloadable to true, name to "none".
 * Environment overrides: WMSCOPE_STANDIN_START_FILE, WMSCOPE_STANDIN_PID_FILE,
 * WMSCOPE_STANDIN_STATS_DIR.
 *
 * Test hooks (all under stats_dir, created by the master at start; *.json cleared at start):
 *   master.json         {"pid","start_file","title","status","daemon","workers":[{"pid","id",
 *                       "name","listen","reusePort"}]} rewritten whenever a worker is forked or
 *                       reaped and when the status changes (running, reloading, stopping,
 *                       stopped).
 *   <pid>.json          one per worker process: {"pid","master_pid","id","name","listen",
 *                       "accepted","active","closed","requests","bytes_in","bytes_out",
 *                       "stalled","alive"} written once the worker listens and has its title,
 *                       then after every accept and every close (and on SIGIOT); a worker that
 *                       exits normally writes "alive": false last. Files are replaced atomically
 *                       (write + rename). accepted counts connections this process accepted.
 *   <pid>.connections   written on SIGIO (the `connections` command): one line per connection.
 *   stall-<pid>, stall-all
 *                       while such a file exists the worker (or every worker) stops touching its
 *                       sockets: no accept, no read, no write. Checked on every loop iteration
 *                       (at most ~250 ms idle), so the kernel's accept and receive queues fill
 *                       up. A file flag, because Workerman already uses SIGINT, SIGTERM, SIGHUP,
 *                       SIGTSTP, SIGQUIT, SIGUSR1, SIGUSR2, SIGIOT and SIGIO.
 *   "exit N"            a text-protocol line that makes the worker exit(N) at once.
 *   "connect HOST:PORT" a text-protocol line that makes the worker open an outbound TCP
 *                       connection (like AsyncTcpConnection to Redis), send "ping\n", read one
 *                       line and close; the client gets "connected <line>" or "error <why>".
 *
 * Limits: stream_select() handles at most ~1000 descriptors per worker (FD_SETSIZE), as with
 * Workerman's own Select event loop. udp and ssl listeners are not supported. Every loop is
 * bounded: idle workers block in stream_select() for 250 ms, the master blocks in pcntl_wait()
 * and wakes at least once a second (SIGALRM heartbeat, which also runs its stop/reload timers).
 */

declare(strict_types=1);

const STANDIN_VERSION = '5.0.0';
const STANDIN_BACKLOG = 102400;
const STANDIN_SELECT_USEC = 250000;
const STANDIN_STALL_USEC = 50000;
const STANDIN_MAX_PACKAGE = 10485760;
const STANDIN_MAX_HTTP_HEADER = 16384;
const STANDIN_MAX_HTTP_BYTES = 67108864;
const STANDIN_WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const STATUS_STARTING = 1;
const STATUS_RUNNING = 2;
const STATUS_SHUTDOWN = 4;
const STATUS_RELOADING = 8;

/** One worker definition ("new Worker(...)" in a Workerman start file). */
final class WorkerDef
{
    public int $index = 0;
    public string $name = 'none';
    /** Socket name as the user wrote it, or null for a worker without a listener. */
    public ?string $socketName = null;
    /** Application protocol handler: text, http, websocket, frame, raw, or none. */
    public string $handler = 'none';
    /** Built-in transport: tcp or unix. */
    public string $transport = 'tcp';
    public int $count = 1;
    public bool $reusePort = false;
    public bool $reloadable = true;
    /** Test hook: exit with this code right after start (a fatal error in onWorkerStart: a crash loop). */
    public ?int $exitAtStart = null;
    /** @var int ms after its start before a process makes its first link */
    public int $linkDelayMs = 0;
    /** GatewayWorker's inner listener: "text://HOST:PORT", each process on PORT + its worker id. */
    public ?string $inner = null;
    /** @var list<string> endpoints every process keeps one connection to ("HOST:PORT"), reconnecting */
    public array $links = [];
    /** @var resource|null */
    public $mainSocket = null;

    /** What Workerman's getSocketName() returns: the socket name with lcfirst(), or "none". */
    public function titleListen(): string
    {
        return $this->socketName !== null ? lcfirst($this->socketName) : 'none';
    }

    /** Open the listening socket (in the master before fork, or in a worker with reusePort). */
    public function listen(): void
    {
        if ($this->socketName === null || $this->mainSocket !== null) {
            return;
        }
        [, $address] = explode(':', $this->socketName, 2);
        $local = $this->transport . ':' . $address;
        $context = stream_context_create(['socket' => ['backlog' => STANDIN_BACKLOG]]);
        if ($this->reusePort) {
            stream_context_set_option($context, 'socket', 'so_reuseport', 1);
        }
        $errno = 0;
        $errstr = '';
        $socket = @stream_socket_server($local, $errno, $errstr,
            STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, $context);
        if ($socket === false) {
            throw new RuntimeException("listen on {$this->socketName}: $errstr ($errno)");
        }
        if ($this->transport === 'tcp' && function_exists('socket_import_stream')) {
            $raw = @socket_import_stream($socket);
            if ($raw !== false && $raw !== null) {
                @socket_set_option($raw, SOL_SOCKET, SO_KEEPALIVE, 1);
                @socket_set_option($raw, SOL_TCP, TCP_NODELAY, 1);
            }
        }
        stream_set_blocking($socket, false);
        $this->mainSocket = $socket;
    }

    public function unlisten(): void
    {
        if ($this->mainSocket !== null) {
            @fclose($this->mainSocket);
            $this->mainSocket = null;
        }
    }

    public function unixPath(): ?string
    {
        if ($this->transport !== 'unix' || $this->socketName === null) {
            return null;
        }
        [, $address] = explode(':', $this->socketName, 2);
        return substr($address, 2);
    }
}

final class Config
{
    public string $startFile;
    public string $processTitle = 'WorkerMan';
    public string $pidFile;
    public string $statsDir;
    public string $stdoutFile = '/dev/null';
    public int $stopTimeout = 2;
    public int $statsEveryMs = 0;
    /** @var WorkerDef[] */
    public array $workers = [];

    public static function load(): self
    {
        $raw = getenv('WMSCOPE_STANDIN_CONFIG');
        $data = [];
        if ($raw !== false && trim($raw) !== '') {
            $json = ltrim($raw)[0] === '{' ? $raw : @file_get_contents($raw);
            if ($json === false) {
                throw new RuntimeException("read config $raw: cannot open file");
            }
            $data = json_decode($json, true);
            if (!is_array($data)) {
                throw new RuntimeException('parse config: ' . json_last_error_msg());
            }
        }
        $c = new self();
        $c->startFile = (string)(self::env('WMSCOPE_STANDIN_START_FILE')
            ?? $data['start_file'] ?? (realpath(__FILE__) ?: __FILE__));
        $c->processTitle = (string)($data['process_title'] ?? 'WorkerMan');
        $prefix = str_replace('/', '_', $c->startFile);
        $tmp = rtrim(sys_get_temp_dir(), '/');
        $c->pidFile = (string)(self::env('WMSCOPE_STANDIN_PID_FILE')
            ?? $data['pid_file'] ?? "$tmp/wmscope-standin$prefix.pid");
        $c->statsDir = rtrim((string)(self::env('WMSCOPE_STANDIN_STATS_DIR')
            ?? $data['stats_dir'] ?? "$tmp/wmscope-standin$prefix.stats"), '/');
        $c->stdoutFile = (string)($data['stdout_file'] ?? '/dev/null');
        $c->stopTimeout = max(1, (int)($data['stop_timeout'] ?? 2));
        $c->statsEveryMs = max(0, (int)(self::env('WMSCOPE_STANDIN_STATS_EVERY_MS') ?? $data['stats_every_ms'] ?? 0));
        $workers = $data['workers'] ?? [[
            'name' => 'TextWorker', 'protocol' => 'text', 'host' => '127.0.0.1', 'port' => 2347,
            'count' => 4,
        ]];
        if (!is_array($workers) || $workers === []) {
            throw new RuntimeException('parse config: "workers" must be a non-empty array');
        }
        foreach (array_values($workers) as $i => $w) {
            $c->workers[] = self::workerDef($i, is_array($w) ? $w : []);
        }
        return $c;
    }

    private static function env(string $name): ?string
    {
        $v = getenv($name);
        return ($v === false || $v === '') ? null : $v;
    }

    private static function workerDef(int $index, array $w): WorkerDef
    {
        $d = new WorkerDef();
        $d->index = $index;
        $name = (string)($w['name'] ?? '');
        if (str_contains($name, "\0")) {
            throw new RuntimeException("parse config: worker $index: name contains NUL");
        }
        $d->name = $name === '' ? 'none' : $name;
        $d->count = max(1, (int)($w['count'] ?? 1));
        $d->reusePort = (bool)($w['reusePort'] ?? $w['reuse_port'] ?? false);
        $d->reloadable = (bool)($w['reloadable'] ?? true);
        if (isset($w['exit_at_start'])) {
            $d->exitAtStart = (int)$w['exit_at_start'];
        }
        $d->linkDelayMs = max(0, (int)($w['link_delay_ms'] ?? 0));
        if (isset($w['inner']) && $w['inner'] !== '') {
            if (!preg_match('#^text://[^:]+:\d+$#', (string)$w['inner'])) {
                throw new RuntimeException("parse config: worker $index: inner must be text://HOST:PORT");
            }
            $d->inner = (string)$w['inner'];
        }
        foreach ((array)($w['links'] ?? []) as $link) {
            if (!preg_match('#^[^:]+:\d+$#', (string)$link)) {
                throw new RuntimeException("parse config: worker $index: link \"$link\" is not HOST:PORT");
            }
            $d->links[] = (string)$link;
        }

        $listen = $w['listen'] ?? null;
        if ($listen === null || $listen === '' || $listen === 'none') {
            $protocol = strtolower((string)($w['protocol'] ?? 'none'));
            if ($protocol === 'none' || $protocol === '') {
                return $d;
            }
            $host = (string)($w['host'] ?? '127.0.0.1');
            if (str_contains($host, ':') && $host[0] !== '[') {
                $host = "[$host]";
            }
            if (!isset($w['port'])) {
                throw new RuntimeException("parse config: worker $index ({$d->name}): port missing");
            }
            $listen = $protocol . '://' . $host . ':' . (int)$w['port'];
        }
        $listen = (string)$listen;
        $parts = explode('://', $listen, 2);
        if (count($parts) !== 2 || $parts[0] === '') {
            throw new RuntimeException("parse config: worker $index: bad listen \"$listen\"");
        }
        $scheme = strtolower($parts[0]);
        [$d->handler, $d->transport] = match ($scheme) {
            'text' => ['text', 'tcp'],
            'http' => ['http', 'tcp'],
            'websocket' => ['websocket', 'tcp'],
            'frame' => ['frame', 'tcp'],
            'tcp' => ['raw', 'tcp'],
            'unix' => ['raw', 'unix'],
            default => throw new RuntimeException(
                "parse config: worker $index: protocol \"$scheme\" not supported by the stand-in"),
        };
        $d->socketName = $listen;
        return $d;
    }

    public function masterTitle(): string
    {
        return $this->processTitle . ': master process  start_file=' . $this->startFile;
    }

    public function workerTitle(WorkerDef $d): string
    {
        return $this->processTitle . ': worker process  ' . $d->name . ' ' . $d->titleListen();
    }
}

/** Small helpers shared by master and workers. */
final class Util
{
    public static bool $daemon = false;

    public static function setTitle(string $title): void
    {
        set_error_handler(static fn() => true);
        cli_set_process_title($title);
        restore_error_handler();
    }

    public static function log(string $msg): void
    {
        if (!self::$daemon) {
            echo $msg, "\n";
        }
    }

    /** Write a file atomically so readers never see half of it. */
    public static function writeAtomic(string $path, string $data): void
    {
        $tmp = $path . '.tmp' . getmypid();
        if (@file_put_contents($tmp, $data) !== false) {
            @rename($tmp, $path);
        }
    }

    public static function writeJson(string $path, array $data): void
    {
        self::writeAtomic($path, json_encode($data, JSON_UNESCAPED_SLASHES) . "\n");
    }

    /** @var list<resource|false> descriptors 0, 1, 2 after resetStd() */
    private static array $std = [];

    /**
     * Workerman's resetStd() (daemon only): close stdin, stdout and stderr and reopen them on
     * the stdout file, so the caller's terminal or pipes are released.
     */
    public static function resetStd(string $stdoutFile): void
    {
        if (!self::$daemon) {
            return;
        }
        set_error_handler(static fn() => true);
        foreach ([STDIN, STDOUT, STDERR, ...self::$std] as $s) {
            if (is_resource($s)) {
                fclose($s);
            }
        }
        // The lowest free descriptors are taken first: 0, then 1, then 2.
        self::$std = [
            fopen('/dev/null', 'r'),
            fopen($stdoutFile, 'a') ?: fopen('/dev/null', 'a'),
            fopen($stdoutFile, 'a') ?: fopen('/dev/null', 'a'),
        ];
        restore_error_handler();
    }

    /** Workerman's checkMasterIsAlive(). */
    public static function masterAlive(int $pid, string $processTitle): bool
    {
        if ($pid <= 0 || $pid === posix_getpid() || !posix_kill($pid, 0)) {
            return false;
        }
        $cmdline = @file_get_contents("/proc/$pid/cmdline");
        if ($cmdline === false || $cmdline === '') {
            return true;
        }
        return stripos($cmdline, $processTitle) !== false || stripos($cmdline, 'php') !== false;
    }

    public static function readPid(string $pidFile): int
    {
        return is_file($pidFile) ? (int)@file_get_contents($pidFile) : 0;
    }
}

/** One accepted connection and its protocol state. */
final class Conn
{
    /** @var resource */
    public $socket;
    public int $id;
    public string $peer;
    public string $in = '';
    public string $out = '';
    public bool $closeAfterWrite = false;
    public int $bytesIn = 0;
    public int $bytesOut = 0;
    /** client (accepted on the worker's listener), inner (on its inner listener), link (its own outbound) */
    public string $role = 'client';
    /** websocket: handshake done */
    public bool $upgraded = false;
    /** websocket: fragmented message being assembled */
    public string $fragments = '';
    public int $fragmentOpcode = 0;

    public function __construct($socket, int $id, string $peer)
    {
        $this->socket = $socket;
        $this->id = $id;
        $this->peer = $peer;
    }
}

/** The event loop and protocol handlers of one worker process. */
final class WorkerProcess
{
    private Config $cfg;
    private WorkerDef $def;
    private int $id;
    private int $masterPid;
    private int $pid;
    /** @var array<int,Conn> */
    private array $conns = [];
    private int $nextConnId = 1;
    private int $accepted = 0;
    private int $closed = 0;
    private int $requests = 0;
    private int $closedBytesIn = 0;
    private int $closedBytesOut = 0;
    private bool $stalled = false;
    private bool $stopping = false;
    private bool $graceful = false;
    private bool $writeStatus = false;
    private bool $statsPending = false; // a write deferred by stats_every_ms
    private int $statsWrittenNs = 0;
    private bool $writeConnections = false;
    /** @var resource|null the inner listener (GatewayWorker's lan port) */
    private $innerSocket = null;
    /** @var array<string,int> link endpoint -> conn id (0: not connected) */
    private array $linkConns = [];
    /** @var array<string,float> link endpoint -> last connect attempt */
    private array $linkTried = [];

    public function __construct(Config $cfg, WorkerDef $def, int $id, int $masterPid)
    {
        $this->cfg = $cfg;
        $this->def = $def;
        $this->id = $id;
        $this->masterPid = $masterPid;
        $this->pid = posix_getpid();
    }

    public function run(): never
    {
        $this->installSignals();
        // Each process only keeps the listener of its own worker definition.
        foreach ($this->cfg->workers as $other) {
            if ($other !== $this->def) {
                $other->unlisten();
            }
        }
        if ($this->def->reusePort) {
            try {
                $this->def->listen();
            } catch (Throwable $e) {
                Util::log('worker[' . $this->def->name . ':' . $this->pid . '] ' . $e->getMessage());
                sleep(1); // avoid a tight fork loop in the master, as Workerman does
                exit(250);
            }
        }
        Util::setTitle($this->cfg->workerTitle($this->def));
        if ($this->def->exitAtStart !== null) {
            exit($this->def->exitAtStart); // the master forks it again at once, as Workerman does
        }
        if ($this->def->inner !== null) {
            // GatewayWorker's Gateway: an inner listener on lanPort = startPort + id, opened in
            // onWorkerStart, so it is in no process title
            [$host, $port] = explode(':', substr($this->def->inner, strlen('text://')), 2);
            $errno = 0;
            $errstr = '';
            $inner = @stream_socket_server('tcp://' . $host . ':' . ((int)$port + $this->id), $errno, $errstr);
            if ($inner === false) {
                Util::log('worker[' . $this->def->name . ':' . $this->pid . '] inner listen: ' . $errstr);
                exit(250);
            }
            stream_set_blocking($inner, false);
            $this->innerSocket = $inner;
        }
        foreach ($this->def->links as $link) {
            $this->linkConns[$link] = 0;
            // the first try once the delay is over (tries are a second apart)
            $this->linkTried[$link] = microtime(true) - 1.0 + $this->def->linkDelayMs / 1000;
        }
        $this->writeStats();
        $this->loop();
    }

    private function installSignals(): void
    {
        pcntl_async_signals(true);
        foreach ([SIGINT, SIGTERM, SIGHUP, SIGTSTP] as $sig) {
            pcntl_signal($sig, function () {
                $this->stopping = true;
                $this->graceful = false;
            }, false);
        }
        pcntl_signal(SIGQUIT, function () {
            $this->stopping = true;
            $this->graceful = true;
        }, false);
        pcntl_signal(SIGUSR1, function () {
            if ($this->def->reloadable) {
                $this->stopping = true;
                $this->graceful = false;
            }
        }, false);
        pcntl_signal(SIGUSR2, function () {
            if ($this->def->reloadable) {
                $this->stopping = true;
                $this->graceful = true;
            }
        }, false);
        pcntl_signal(SIGIOT, function () {
            $this->writeStatus = true;
        }, false);
        pcntl_signal(SIGIO, function () {
            $this->writeConnections = true;
        }, false);
        pcntl_signal(SIGALRM, SIG_IGN, false);
        pcntl_signal(SIGPIPE, SIG_IGN, false);
    }

    private function loop(): never
    {
        $stallOne = $this->cfg->statsDir . '/stall-' . $this->pid;
        $stallAll = $this->cfg->statsDir . '/stall-all';
        while (true) {
            if ($this->writeStatus) {
                $this->writeStatus = false;
                $this->writeStats();
            }
            if ($this->statsPending) {
                $this->writeStats(); // deferred; the select timeout bounds the wait
            }
            if ($this->writeConnections) {
                $this->writeConnections = false;
                $this->dumpConnections();
            }
            if ($this->stopping) {
                if ($this->def->mainSocket !== null) {
                    $this->def->unlisten();
                }
                if ($this->innerSocket !== null) {
                    @fclose($this->innerSocket);
                    $this->innerSocket = null;
                }
                $this->linkConns = []; // no reconnects while stopping
                if (!$this->graceful) {
                    foreach ($this->conns as $c) {
                        $this->closeConn($c);
                    }
                }
                if ($this->conns === []) {
                    $this->writeStats(false);
                    exit(0);
                }
            }

            clearstatcache(false, $stallOne);
            clearstatcache(false, $stallAll);
            $stall = file_exists($stallOne) || file_exists($stallAll);
            if ($stall !== $this->stalled) {
                $this->stalled = $stall;
                $this->writeStats();
            }
            if ($stall) {
                usleep(STANDIN_STALL_USEC);
                continue;
            }

            $this->connectLinks();
            $read = [];
            $write = [];
            if ($this->def->mainSocket !== null) {
                $read[0] = $this->def->mainSocket;
            }
            if ($this->innerSocket !== null) {
                $read[-1] = $this->innerSocket;
            }
            foreach ($this->conns as $id => $c) {
                $read[$id] = $c->socket;
                if ($c->out !== '') {
                    $write[$id] = $c->socket;
                }
            }
            if ($read === [] && $write === []) {
                usleep(STANDIN_SELECT_USEC); // a worker without listener or connections: timers only
                continue;
            }
            $except = null;
            $n = @stream_select($read, $write, $except, 0, STANDIN_SELECT_USEC);
            if ($n === false || $n === 0) {
                continue; // timeout, or EINTR from a signal
            }
            foreach ($write as $id => $_) {
                if (isset($this->conns[$id])) {
                    $this->flush($this->conns[$id]);
                }
            }
            foreach ($read as $id => $_) {
                if ($id === 0) {
                    $this->accept();
                } elseif ($id === -1) {
                    $this->acceptInner();
                } elseif (isset($this->conns[$id])) {
                    $this->readConn($this->conns[$id]);
                }
            }
        }
    }

    private function accept(): void
    {
        if ($this->def->mainSocket === null) {
            return;
        }
        $peer = '';
        set_error_handler(static fn() => true);
        $s = stream_socket_accept($this->def->mainSocket, 0, $peer);
        restore_error_handler();
        if ($s === false) {
            return; // another worker won the race (shared listener)
        }
        stream_set_blocking($s, false);
        stream_set_read_buffer($s, 0);
        stream_set_write_buffer($s, 0);
        $id = $this->nextConnId++;
        $this->conns[$id] = new Conn($s, $id, (string)$peer);
        $this->accepted++;
        $this->writeStats();
    }

    /** GatewayWorker's links: one connection per endpoint, retried once a second while down. */
    private function connectLinks(): void
    {
        if ($this->stopping) {
            return;
        }
        $now = microtime(true);
        foreach ($this->linkConns as $link => $connId) {
            if (($connId !== 0 && isset($this->conns[$connId])) || $now - $this->linkTried[$link] < 1.0) {
                continue;
            }
            $this->linkTried[$link] = $now;
            $errno = 0;
            $errstr = '';
            $s = @stream_socket_client('tcp://' . $link, $errno, $errstr, 1.0);
            if ($s === false) {
                $this->linkConns[$link] = 0;
                continue;
            }
            stream_set_blocking($s, false);
            $id = $this->nextConnId++;
            $c = new Conn($s, $id, $link);
            $c->role = 'link';
            $this->conns[$id] = $c;
            $this->linkConns[$link] = $id;
            $this->send($c, 'hello ' . $this->def->name . ' ' . $this->pid . "\n");
        }
    }

    private function acceptInner(): void
    {
        $peer = '';
        set_error_handler(static fn() => true);
        $s = stream_socket_accept($this->innerSocket, 0, $peer);
        restore_error_handler();
        if ($s === false) {
            return;
        }
        stream_set_blocking($s, false);
        $id = $this->nextConnId++;
        $c = new Conn($s, $id, (string)$peer);
        $c->role = 'inner';
        $this->conns[$id] = $c;
    }

    private function readConn(Conn $c): void
    {
        set_error_handler(static fn() => true);
        $data = fread($c->socket, 65536);
        restore_error_handler();
        if ($data === false || ($data === '' && feof($c->socket))) {
            $this->closeConn($c);
            return;
        }
        if ($data === '') {
            return;
        }
        $c->bytesIn += strlen($data);
        if ($c->role === 'link') {
            return; // what the other end says on a link is read and dropped (no echo back)
        }
        $c->in .= $data;
        if ($c->role === 'inner') {
            $this->onText($c); // the inner protocol: lines, echoed
            return;
        }
        match ($this->def->handler) {
            'text' => $this->onText($c),
            'http' => $this->onHttp($c),
            'websocket' => $this->onWebsocket($c),
            'frame' => $this->onFrame($c),
            default => $this->onRaw($c),
        };
    }

    private function send(Conn $c, string $data, bool $thenClose = false): void
    {
        $c->out .= $data;
        $c->closeAfterWrite = $c->closeAfterWrite || $thenClose;
        $this->flush($c);
    }

    private function flush(Conn $c): void
    {
        if ($c->out !== '') {
            set_error_handler(static fn() => true);
            $n = fwrite($c->socket, $c->out);
            restore_error_handler();
            if ($n === false) {
                $this->closeConn($c);
                return;
            }
            $c->bytesOut += $n;
            $c->out = (string)substr($c->out, $n);
        }
        if ($c->out === '' && $c->closeAfterWrite) {
            $this->closeConn($c);
        }
    }

    private function closeConn(Conn $c): void
    {
        if (!isset($this->conns[$c->id])) {
            return;
        }
        unset($this->conns[$c->id]);
        @fclose($c->socket);
        $this->closed++;
        $this->closedBytesIn += $c->bytesIn;
        $this->closedBytesOut += $c->bytesOut;
        $this->writeStats();
    }

    // --- protocols -------------------------------------------------------------------------

    private function onRaw(Conn $c): void
    {
        $data = $c->in;
        $c->in = '';
        $this->requests++;
        $this->send($c, $data);
    }

    private function onText(Conn $c): void
    {
        while (($pos = strpos($c->in, "\n")) !== false) {
            $line = substr($c->in, 0, $pos + 1);
            $c->in = (string)substr($c->in, $pos + 1);
            $this->requests++;
            $text = rtrim($line, "\r\n");
            if (str_starts_with($text, 'connect ')) {
                // test hook: an outbound connection from this worker, like AsyncTcpConnection
                $this->send($c, $this->outbound(substr($text, 8)) . "\n");
            } elseif (preg_match('/^exit (\d{1,3})$/', $text, $m)) {
                // test hook: the worker exits by itself with this code (a PHP fatal error is 255)
                exit((int)$m[1]);
            } else {
                // Workerman's Text protocol: decode strips "\r\n", encode appends "\n".
                $this->send($c, $text . "\n");
            }
            if (!isset($this->conns[$c->id])) {
                return;
            }
        }
        if (strlen($c->in) > STANDIN_MAX_PACKAGE) {
            $this->closeConn($c);
        }
    }

    /**
     * Test hook of the text protocol: "connect HOST:PORT" makes this worker open a TCP
     * connection to HOST:PORT (as a worker's AsyncTcpConnection to Redis would), send "ping\n",
     * read one line and close; the reply to the client is "connected <line>" or "error <why>".
     * Blocking for at most 2 s, which a stand-in can afford.
     */
    private function outbound(string $target): string
    {
        $errno = 0;
        $errstr = '';
        $s = @stream_socket_client('tcp://' . $target, $errno, $errstr, 2.0);
        if ($s === false) {
            return 'error ' . $errstr;
        }
        stream_set_timeout($s, 2);
        fwrite($s, "ping\n");
        $reply = fgets($s);
        fclose($s);
        return $reply === false ? 'error no reply' : 'connected ' . rtrim($reply, "\r\n");
    }

    private function onFrame(Conn $c): void
    {
        while (strlen($c->in) >= 4) {
            $total = unpack('Nlen', $c->in)['len'];
            if ($total < 4 || $total > STANDIN_MAX_PACKAGE) {
                $this->closeConn($c);
                return;
            }
            if (strlen($c->in) < $total) {
                return;
            }
            $body = substr($c->in, 4, $total - 4);
            $c->in = (string)substr($c->in, $total);
            $this->requests++;
            $this->send($c, pack('N', strlen($body) + 4) . $body);
            if (!isset($this->conns[$c->id])) {
                return;
            }
        }
    }

    private function onHttp(Conn $c): void
    {
        while ($c->in !== '' && isset($this->conns[$c->id]) && !$c->closeAfterWrite) {
            $end = strpos($c->in, "\r\n\r\n");
            if ($end === false) {
                if (strlen($c->in) > STANDIN_MAX_HTTP_HEADER) {
                    $this->send($c, "HTTP/1.1 413 Payload Too Large\r\n\r\n", true);
                }
                return;
            }
            $head = substr($c->in, 0, $end);
            $lines = explode("\r\n", $head);
            $requestLine = explode(' ', array_shift($lines));
            if (count($requestLine) !== 3) {
                $this->send($c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", true);
                return;
            }
            [$method, $uri, $version] = $requestLine;
            $headers = [];
            foreach ($lines as $line) {
                $p = strpos($line, ':');
                if ($p !== false) {
                    $headers[strtolower(trim(substr($line, 0, $p)))] = trim(substr($line, $p + 1));
                }
            }
            if (isset($headers['transfer-encoding'])) {
                $this->send($c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", true);
                return;
            }
            $bodyLen = (int)($headers['content-length'] ?? 0);
            if ($bodyLen < 0 || $bodyLen > STANDIN_MAX_PACKAGE) {
                $this->send($c, "HTTP/1.1 413 Payload Too Large\r\n\r\n", true);
                return;
            }
            if (strlen($c->in) < $end + 4 + $bodyLen) {
                return; // wait for the body
            }
            $c->in = (string)substr($c->in, $end + 4 + $bodyLen);
            $this->requests++;

            $connHeader = strtolower($headers['connection'] ?? '');
            $keepAlive = $version === 'HTTP/1.1' ? $connHeader !== 'close' : $connHeader === 'keep-alive';
            $path = parse_url($uri, PHP_URL_PATH) ?: '/';
            if (preg_match('#^/chunked/(\d{1,4})$#', $path, $m)) {
                // Workerman's chunked response: the head, then one send per chunk, then 0\r\n\r\n
                $this->send($c, "HTTP/1.1 200 OK\r\nServer: workerman\r\nTransfer-Encoding: chunked\r\n"
                    . 'Connection: ' . ($keepAlive ? 'keep-alive' : 'close') . "\r\n\r\n");
                for ($i = 0; $i < (int)$m[1] && isset($this->conns[$c->id]); $i++) {
                    $chunk = "chunk $i\n";
                    $this->send($c, dechex(strlen($chunk)) . "\r\n" . $chunk . "\r\n");
                }
                $this->send($c, "0\r\n\r\n", !$keepAlive);
                continue;
            }
            if ($path === '/') {
                [$status, $body] = ['200 OK', "hello\n"];
            } elseif (preg_match('#^/bytes/(\d{1,9})$#', $path, $m) && (int)$m[1] <= STANDIN_MAX_HTTP_BYTES) {
                [$status, $body] = ['200 OK', str_repeat('x', (int)$m[1])];
            } elseif (preg_match('#^/status/([1-5]\d\d)$#', $path, $m) && (int)$m[1] >= 200) {
                [$status, $body] = [$m[1] . ' Status', "status {$m[1]}\n"];
            } elseif (preg_match('#^/spin/(\d{1,4})$#', $path, $m)) {
                $until = microtime(true) + min((int)$m[1], 5000) / 1000; // a handler busy on the CPU
                while (microtime(true) < $until) {
                }
                [$status, $body] = ['200 OK', "spun {$m[1]} ms\n"];
            } elseif (preg_match('#^/delay/(\d{1,4})$#', $path, $m)) {
                usleep(min((int)$m[1], 5000) * 1000); // a slow handler: the event loop waits, as PHP code would
                [$status, $body] = ['200 OK', "slept {$m[1]} ms\n"];
            } else {
                [$status, $body] = ['404 Not Found', "404 Not Found\n"];
            }
            $response = "HTTP/1.1 $status\r\n"
                . "Server: workerman\r\n"
                . 'Connection: ' . ($keepAlive ? 'keep-alive' : 'close') . "\r\n"
                . "Content-Type: text/html;charset=utf-8\r\n"
                . 'X-Worker-Pid: ' . $this->pid . "\r\n"
                . 'Content-Length: ' . strlen($body) . "\r\n\r\n"
                . ($method === 'HEAD' ? '' : $body);
            $this->send($c, $response, !$keepAlive);
        }
    }

    private function onWebsocket(Conn $c): void
    {
        if (!$c->upgraded) {
            $end = strpos($c->in, "\r\n\r\n");
            if ($end === false) {
                if (strlen($c->in) > STANDIN_MAX_HTTP_HEADER) {
                    $this->closeConn($c);
                }
                return;
            }
            $head = substr($c->in, 0, $end);
            $c->in = (string)substr($c->in, $end + 4);
            $key = null;
            foreach (explode("\r\n", $head) as $line) {
                if (stripos($line, 'Sec-WebSocket-Key:') === 0) {
                    $key = trim(substr($line, strlen('Sec-WebSocket-Key:')));
                }
            }
            if ($key === null) {
                $this->send($c, "HTTP/1.1 400 Bad Request\r\n\r\n<b>400 Bad Request</b><br>"
                    . "Sec-WebSocket-Key not found.<br>This is a WebSocket service and can not be "
                    . "accessed via HTTP.", true);
                return;
            }
            $accept = base64_encode(sha1($key . STANDIN_WS_GUID, true));
            $this->send($c, "HTTP/1.1 101 Switching Protocol\r\n"
                . "Upgrade: websocket\r\n"
                . "Sec-WebSocket-Version: 13\r\n"
                . "Connection: Upgrade\r\n"
                . "Sec-WebSocket-Accept: $accept\r\n\r\n");
            $c->upgraded = true;
        }
        while (isset($this->conns[$c->id]) && !$c->closeAfterWrite) {
            $frame = self::wsParse($c->in);
            if ($frame === null) {
                return; // need more bytes
            }
            if ($frame === false) {
                $this->closeConn($c);
                return;
            }
            [$fin, $opcode, $payload, $used] = $frame;
            $c->in = (string)substr($c->in, $used);
            switch ($opcode) {
                case 0x0: // continuation
                    $c->fragments .= $payload;
                    if ($fin) {
                        $this->requests++;
                        $this->send($c, self::wsFrame($c->fragmentOpcode, $c->fragments));
                        $c->fragments = '';
                    }
                    break;
                case 0x1: // text
                case 0x2: // binary
                    if ($fin) {
                        $this->requests++;
                        $this->send($c, self::wsFrame($opcode, $payload));
                    } else {
                        $c->fragmentOpcode = $opcode;
                        $c->fragments = $payload;
                    }
                    break;
                case 0x8: // close: answer with the same status, then close
                    $this->send($c, self::wsFrame(0x8, substr($payload, 0, 2)), true);
                    return;
                case 0x9: // ping
                    $this->send($c, self::wsFrame(0xA, $payload));
                    break;
                case 0xA: // pong
                    break;
                default:
                    $this->closeConn($c);
                    return;
            }
        }
    }

    /** @return array{bool,int,string,int}|null|false [fin, opcode, payload, bytes used]; null = incomplete */
    private static function wsParse(string $buf): array|null|false
    {
        $len = strlen($buf);
        if ($len < 2) {
            return null;
        }
        $b0 = ord($buf[0]);
        $b1 = ord($buf[1]);
        $masked = ($b1 & 0x80) !== 0;
        $plen = $b1 & 0x7F;
        $pos = 2;
        if ($plen === 126) {
            if ($len < 4) {
                return null;
            }
            $plen = unpack('n', substr($buf, 2, 2))[1];
            $pos = 4;
        } elseif ($plen === 127) {
            if ($len < 10) {
                return null;
            }
            $plen = unpack('J', substr($buf, 2, 8))[1];
            $pos = 10;
        }
        if ($plen < 0 || $plen > STANDIN_MAX_PACKAGE) {
            return false;
        }
        $mask = '';
        if ($masked) {
            if ($len < $pos + 4) {
                return null;
            }
            $mask = substr($buf, $pos, 4);
            $pos += 4;
        }
        if ($len < $pos + $plen) {
            return null;
        }
        $payload = substr($buf, $pos, $plen);
        if ($masked && $plen > 0) {
            $payload ^= str_repeat($mask, intdiv($plen, 4) + 1);
            $payload = substr($payload, 0, $plen);
        }
        return [($b0 & 0x80) !== 0, $b0 & 0x0F, $payload, $pos + $plen];
    }

    private static function wsFrame(int $opcode, string $payload): string
    {
        $len = strlen($payload);
        $head = chr(0x80 | $opcode);
        if ($len < 126) {
            $head .= chr($len);
        } elseif ($len < 65536) {
            $head .= chr(126) . pack('n', $len);
        } else {
            $head .= chr(127) . pack('J', $len);
        }
        return $head . $payload;
    }

    // --- stats -------------------------------------------------------------------------------

    private function writeStats(bool $alive = true): void
    {
        $now = hrtime(true);
        if ($alive && $this->cfg->statsEveryMs > 0
            && $now - $this->statsWrittenNs < $this->cfg->statsEveryMs * 1_000_000) {
            $this->statsPending = true;
            return;
        }
        $this->statsPending = false;
        $this->statsWrittenNs = $now;
        $in = $this->closedBytesIn;
        $out = $this->closedBytesOut;
        foreach ($this->conns as $c) {
            $in += $c->bytesIn;
            $out += $c->bytesOut;
        }
        Util::writeJson($this->cfg->statsDir . '/' . $this->pid . '.json', [
            'pid' => $this->pid,
            'master_pid' => $this->masterPid,
            'id' => $this->id,
            'name' => $this->def->name,
            'listen' => $this->def->titleListen(),
            'accepted' => $this->accepted,
            'active' => count($this->conns),
            'closed' => $this->closed,
            'requests' => $this->requests,
            'bytes_in' => $in,
            'bytes_out' => $out,
            'stalled' => $this->stalled,
            'alive' => $alive,
        ]);
    }

    private function dumpConnections(): void
    {
        $lines = '';
        foreach ($this->conns as $c) {
            $local = (string)@stream_socket_get_name($c->socket, false);
            $lines .= sprintf("%-8d %-16s %-6d %-10s %-22s %-22s %d %d\n", $this->pid,
                substr($this->def->name, 0, 16), $c->id, $this->def->handler, $local, $c->peer,
                $c->bytesIn, $c->bytesOut);
        }
        Util::writeAtomic($this->cfg->statsDir . '/' . $this->pid . '.connections', $lines);
    }
}

/** The master process: forks, monitors, reloads and stops the workers. */
final class Master
{
    private Config $cfg;
    private int $status = STATUS_STARTING;
    private bool $graceful = false;
    private int $pid = 0;
    /** @var array<int,array<int,int>> definition index => [pid => pid] */
    private array $pidMap = [];
    /** @var array<int,array<int,int>> definition index => [worker id => pid or 0] */
    private array $idMap = [];
    /** @var array<int,int> */
    private array $pidsToRestart = [];
    /** @var list<array{float,callable}> */
    private array $timers = [];

    public function __construct(Config $cfg)
    {
        $this->cfg = $cfg;
        foreach ($cfg->workers as $d) {
            $this->pidMap[$d->index] = [];
            $this->idMap[$d->index] = array_fill(0, $d->count, 0);
        }
    }

    public function start(): never
    {
        $this->daemonize();
        @mkdir($this->cfg->statsDir, 0777, true);
        foreach (glob($this->cfg->statsDir . '/*.json') ?: [] as $old) {
            @unlink($old);
        }
        // Default layout: the master listens before forking and the workers inherit the socket.
        foreach ($this->cfg->workers as $d) {
            if (!$d->reusePort) {
                try {
                    $d->listen();
                } catch (Throwable $e) {
                    Util::log($e->getMessage());
                    exit(1);
                }
            }
        }
        $this->installSignals();
        $this->pid = posix_getpid();
        if (@file_put_contents($this->cfg->pidFile, (string)$this->pid) === false) {
            Util::log('can not save pid to ' . $this->cfg->pidFile);
            exit(1);
        }
        $this->displayUi();
        $this->forkWorkers();
        Util::resetStd($this->cfg->stdoutFile);
        $this->monitor();
    }

    private function daemonize(): void
    {
        if (!Util::$daemon) {
            return;
        }
        umask(0);
        $pid = pcntl_fork();
        if ($pid === -1) {
            throw new RuntimeException('fork fail');
        } elseif ($pid > 0) {
            exit(0);
        }
        if (posix_setsid() === -1) {
            throw new RuntimeException('setsid fail');
        }
        // Fork again so the daemon can never regain a controlling terminal.
        $pid = pcntl_fork();
        if ($pid === -1) {
            throw new RuntimeException('fork fail');
        } elseif ($pid !== 0) {
            exit(0);
        }
    }

    private function installSignals(): void
    {
        pcntl_async_signals(false);
        foreach ([SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGQUIT, SIGUSR1, SIGUSR2, SIGIOT, SIGIO] as $sig) {
            pcntl_signal($sig, [$this, 'onSignal'], false);
        }
        pcntl_signal(SIGALRM, [$this, 'onAlarm'], false);
        pcntl_signal(SIGPIPE, SIG_IGN, false);
        pcntl_alarm(1);
    }

    public function onSignal(int $signal): void
    {
        switch ($signal) {
            case SIGINT:
            case SIGTERM:
            case SIGHUP:
            case SIGTSTP:
                $this->graceful = false;
                $this->stopAll();
                break;
            case SIGQUIT:
                $this->graceful = true;
                $this->stopAll();
                break;
            case SIGUSR1:
            case SIGUSR2:
                $this->graceful = $signal === SIGUSR2;
                $this->pidsToRestart = $this->allWorkerPids();
                $this->reload();
                break;
            case SIGIOT:
            case SIGIO:
                foreach ($this->allWorkerPids() as $pid) {
                    posix_kill($pid, $signal);
                }
                break;
        }
    }

    /** Heartbeat: runs due timers and bounds every pcntl_wait() to about a second. */
    public function onAlarm(): void
    {
        $now = microtime(true);
        $due = [];
        foreach ($this->timers as $i => [$at, $fn]) {
            if ($at <= $now) {
                $due[] = $fn;
                unset($this->timers[$i]);
            }
        }
        foreach ($due as $fn) {
            $fn();
        }
        pcntl_alarm(1);
    }

    private function addTimer(float $seconds, callable $fn): void
    {
        $this->timers[] = [microtime(true) + $seconds, $fn];
    }

    private function monitor(): never
    {
        $this->status = STATUS_RUNNING;
        $this->writeMasterJson();
        while (true) {
            pcntl_signal_dispatch();
            $st = 0;
            $pid = pcntl_wait($st, WUNTRACED);
            pcntl_signal_dispatch();
            if ($pid > 0) {
                foreach ($this->pidMap as $index => $pids) {
                    if (isset($pids[$pid])) {
                        $d = $this->cfg->workers[$index];
                        if ($st !== 0 && $this->status !== STATUS_SHUTDOWN) {
                            Util::log("worker[{$d->name}:$pid] exit with status $st");
                        }
                        unset($this->pidMap[$index][$pid]);
                        $id = array_search($pid, $this->idMap[$index], true);
                        if ($id !== false) {
                            $this->idMap[$index][$id] = 0;
                        }
                        break;
                    }
                }
                if ($this->status !== STATUS_SHUTDOWN) {
                    $this->forkWorkers();
                    if (isset($this->pidsToRestart[$pid])) {
                        unset($this->pidsToRestart[$pid]);
                        $this->reload();
                    }
                }
                $this->writeMasterJson();
            }
            if ($this->status === STATUS_SHUTDOWN && $this->allWorkerPids() === []) {
                $this->exitAndClearAll();
            }
        }
    }

    private function forkWorkers(): void
    {
        foreach ($this->cfg->workers as $d) {
            while (count($this->pidMap[$d->index]) < $d->count) {
                $this->forkOne($d);
            }
        }
    }

    private function forkOne(WorkerDef $d): void
    {
        $id = array_search(0, $this->idMap[$d->index], true);
        $pid = pcntl_fork();
        if ($pid > 0) {
            $this->pidMap[$d->index][$pid] = $pid;
            $this->idMap[$d->index][$id] = $pid;
            return;
        }
        if ($pid === 0) {
            pcntl_alarm(0);
            foreach ([SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGQUIT, SIGUSR1, SIGUSR2, SIGIOT, SIGIO,
                         SIGALRM] as $sig) {
                pcntl_signal($sig, SIG_DFL, false);
            }
            Util::resetStd($this->cfg->stdoutFile);
            mt_srand();
            (new WorkerProcess($this->cfg, $d, (int)$id, $this->pid))->run();
        }
        throw new RuntimeException('forkOneWorker fail');
    }

    private function reload(): void
    {
        if ($this->status !== STATUS_RELOADING && $this->status !== STATUS_SHUTDOWN) {
            Util::log('Workerman[' . basename($this->cfg->startFile) . '] reloading');
            $this->status = STATUS_RELOADING;
            $this->writeMasterJson();
        }
        $sig = $this->graceful ? SIGUSR2 : SIGUSR1;
        $reloadable = [];
        foreach ($this->pidMap as $index => $pids) {
            if ($this->cfg->workers[$index]->reloadable) {
                foreach ($pids as $pid) {
                    $reloadable[$pid] = $pid;
                }
            } else {
                foreach ($pids as $pid) {
                    posix_kill($pid, $sig); // told, but it keeps running
                }
            }
        }
        $this->pidsToRestart = array_intersect($this->pidsToRestart, $reloadable);
        if ($this->pidsToRestart === []) {
            if ($this->status !== STATUS_SHUTDOWN) {
                $this->status = STATUS_RUNNING;
                $this->writeMasterJson();
            }
            return;
        }
        // Replace one worker at a time; the next one goes when this one has exited.
        $one = (int)current($this->pidsToRestart);
        posix_kill($one, $sig);
        if (!$this->graceful) {
            $this->addTimer($this->cfg->stopTimeout, static fn() => posix_kill($one, SIGKILL));
        }
    }

    private function stopAll(): void
    {
        $this->status = STATUS_SHUTDOWN;
        Util::log('Workerman[' . basename($this->cfg->startFile) . '] stopping ...');
        $this->writeMasterJson();
        $sig = $this->graceful ? SIGQUIT : SIGINT;
        foreach ($this->allWorkerPids() as $pid) {
            posix_kill($pid, $sig);
            if (!$this->graceful) {
                $this->addTimer($this->cfg->stopTimeout, static fn() => posix_kill($pid, SIGKILL));
            }
        }
    }

    private function exitAndClearAll(): never
    {
        foreach ($this->cfg->workers as $d) {
            $d->unlisten();
            $path = $d->unixPath();
            if ($path !== null) {
                @unlink($path);
            }
        }
        @unlink($this->cfg->pidFile);
        $this->status = STATUS_SHUTDOWN;
        $this->writeMasterJson('stopped');
        Util::log('Workerman[' . basename($this->cfg->startFile) . '] has been stopped');
        exit(0);
    }

    /** @return array<int,int> */
    private function allWorkerPids(): array
    {
        $all = [];
        foreach ($this->pidMap as $pids) {
            foreach ($pids as $pid) {
                $all[$pid] = $pid;
            }
        }
        return $all;
    }

    private function writeMasterJson(?string $statusName = null): void
    {
        $workers = [];
        foreach ($this->idMap as $index => $ids) {
            $d = $this->cfg->workers[$index];
            foreach ($ids as $id => $pid) {
                if ($pid > 0) {
                    $workers[] = ['pid' => $pid, 'id' => $id, 'name' => $d->name,
                        'listen' => $d->titleListen(), 'reusePort' => $d->reusePort];
                }
            }
        }
        $statusName ??= match ($this->status) {
            STATUS_STARTING => 'starting',
            STATUS_RUNNING => 'running',
            STATUS_RELOADING => 'reloading',
            default => 'stopping',
        };
        Util::writeJson($this->cfg->statsDir . '/master.json', [
            'pid' => $this->pid,
            'start_file' => $this->cfg->startFile,
            'title' => $this->cfg->masterTitle(),
            'status' => $statusName,
            'daemon' => Util::$daemon,
            'workers' => $workers,
        ]);
    }

    private function displayUi(): void
    {
        $user = posix_getpwuid(posix_geteuid())['name'] ?? (string)posix_geteuid();
        $out = str_pad(' WORKERMAN ', 80, '-', STR_PAD_BOTH) . "\n"
            . 'Workerman version:' . STANDIN_VERSION . ' (wmscope stand-in)   PHP version:' . PHP_VERSION
            . "   Event-loop:Workerman\\Events\\Select\n"
            . str_pad(' WORKERS ', 80, '-', STR_PAD_BOTH) . "\n"
            . sprintf("%-6s %-12s %-24s %-32s %-10s %s\n", 'proto', 'user', 'worker', 'listen',
                'processes', 'state');
        foreach ($this->cfg->workers as $d) {
            $out .= sprintf("%-6s %-12s %-24s %-32s %-10d %s\n", $d->transport, $user, $d->name,
                $d->titleListen(), $d->count, '[OK]');
        }
        $out .= str_repeat('-', 80) . "\n";
        $out .= Util::$daemon
            ? "Input \"php {$GLOBALS['argv'][0]} stop\" to stop. Start success.\n\n"
            : "Press Ctrl+C to stop. Start success.\n";
        echo $out;
    }
}

// --- commands --------------------------------------------------------------------------------

function standin_status_text(Config $cfg): string
{
    $master = json_decode((string)@file_get_contents($cfg->statsDir . '/master.json'), true);
    if (!is_array($master)) {
        return "no status\n";
    }
    $out = str_pad(' GLOBAL STATUS ', 80, '-', STR_PAD_BOTH) . "\n"
        . 'Workerman version:' . STANDIN_VERSION . ' (wmscope stand-in)   PHP version:' . PHP_VERSION . "\n"
        . 'master pid: ' . $master['pid'] . '   status: ' . $master['status'] . "\n"
        . str_pad(' PROCESS STATUS ', 80, '-', STR_PAD_BOTH) . "\n"
        . sprintf("%-8s %-28s %-20s %-11s %-9s %s\n", 'pid', 'listening', 'worker_name',
            'connections', 'accepted', 'total_request');
    foreach ($master['workers'] as $w) {
        $s = json_decode((string)@file_get_contents($cfg->statsDir . '/' . $w['pid'] . '.json'), true);
        $out .= sprintf("%-8d %-28s %-20s %-11s %-9s %s\n", $w['pid'], $w['listen'], $w['name'],
            $s['active'] ?? 'N/A', $s['accepted'] ?? 'N/A', $s['requests'] ?? 'N/A');
    }
    return $out;
}

function standin_main(array $argv): void
{
    try {
        $cfg = Config::load();
    } catch (Throwable $e) {
        fwrite(STDERR, $e->getMessage() . "\n");
        exit(64);
    }
    // Like Workerman's init(): every command gives its own process the master's title first.
    Util::setTitle($cfg->masterTitle());

    $usage = "Usage: php yourfile <command> [mode]\nCommands: \nstart\t\tStart worker in DEBUG mode.\n"
        . "\t\tUse mode -d to start in DAEMON mode.\nstop\t\tStop worker.\n\t\tUse mode -g to stop gracefully.\n"
        . "restart\t\tRestart workers.\n\t\tUse mode -d to start in DAEMON mode.\n\t\tUse mode -g to stop gracefully.\n"
        . "reload\t\tReload codes.\n\t\tUse mode -g to reload gracefully.\nstatus\t\tGet worker status.\n"
        . "\t\tUse mode -d to show live status.\nconnections\tGet worker connections.\n";
    $command = '';
    $mode = [];
    foreach (array_slice($argv, 1) as $arg) {
        if (in_array($arg, ['start', 'stop', 'restart', 'reload', 'status', 'connections'], true)) {
            $command = $arg;
        } elseif ($arg === '-d' || $arg === '-g') {
            $mode[$arg] = true;
        }
    }
    if ($command === '') {
        echo $usage;
        exit(64);
    }
    $startFile = $argv[0];
    $masterPid = Util::readPid($cfg->pidFile);
    $alive = Util::masterAlive($masterPid, $cfg->processTitle);
    if ($alive && $command === 'start') {
        echo "Workerman[$startFile] already running\n";
        exit(1);
    }
    if (!$alive && $command !== 'start' && $command !== 'restart') {
        echo "Workerman[$startFile] not run\n";
        exit(1);
    }

    switch ($command) {
        case 'status':
            do {
                posix_kill($masterPid, SIGIOT);
                sleep(1);
                if (isset($mode['-d'])) {
                    echo "\33[H\33[2J\33(B\33[m";
                }
                echo standin_status_text($cfg);
                if (isset($mode['-d'])) {
                    echo "\nPress Ctrl+C to quit.\n\n";
                }
            } while (isset($mode['-d']) && Util::masterAlive($masterPid, $cfg->processTitle));
            exit(0);
        case 'connections':
            foreach (glob($cfg->statsDir . '/*.connections') ?: [] as $old) {
                @unlink($old);
            }
            posix_kill($masterPid, SIGIO);
            usleep(500000);
            echo "PID      Worker           CID    Protocol   Local Address          Foreign Address        Bytes-R Bytes-W\n";
            foreach (glob($cfg->statsDir . '/*.connections') ?: [] as $f) {
                echo (string)@file_get_contents($f);
            }
            exit(0);
        case 'reload':
            posix_kill($masterPid, isset($mode['-g']) ? SIGUSR2 : SIGUSR1);
            exit(0);
        case 'stop':
        case 'restart':
            if ($alive) {
                $graceful = isset($mode['-g']);
                echo "Workerman[$startFile] is " . ($graceful ? 'gracefully ' : '') . "stopping ...\n";
                posix_kill($masterPid, $graceful ? SIGQUIT : SIGINT);
                $deadline = time() + $cfg->stopTimeout + 3;
                while (posix_kill($masterPid, 0)) {
                    if (!$graceful && time() >= $deadline) {
                        echo "Workerman[$startFile] stop fail\n";
                        exit(1);
                    }
                    usleep(10000);
                }
                echo "Workerman[$startFile] stop success\n";
            }
            if ($command === 'stop') {
                exit(0);
            }
            // restart: fall through to start
        case 'start':
            Util::$daemon = isset($mode['-d']);
            (new Master($cfg))->start();
    }
}

if (PHP_SAPI !== 'cli') {
    exit("Only run in command line mode \n");
}
standin_main($argv);
