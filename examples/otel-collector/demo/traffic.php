<?php
// Client load for the demo stand-in, bounded to 30 minutes: 20 long-lived "chat" connections
// that send a message every second, and short "API" connections (a request line, the echo,
// close) about 20 times a second. Restart the demo service for more.
$deadline = time() + 1800;
$chat = [];
$next = 0.0;
while (time() < $deadline) {
    while (count($chat) < 20) {
        $c = @stream_socket_client('tcp://127.0.0.1:7272', $errno, $errstr, 2);
        if (!$c) { sleep(1); continue 2; }
        $chat[] = $c;
    }
    if (microtime(true) >= $next) {
        foreach ($chat as $i => $c) {
            if (@fwrite($c, str_repeat('m', random_int(20, 400))) === false) { fclose($c); unset($chat[$i]); continue; }
            @fread($c, 8192);
            if (random_int(0, 200) === 0) { fclose($c); unset($chat[$i]); } // some users leave
        }
        $next = microtime(true) + 1.0;
    }
    $a = @stream_socket_client('tcp://127.0.0.1:2347', $errno, $errstr, 2);
    if ($a) {
        fwrite($a, str_repeat('q', random_int(10, 2000)) . "\n");
        fgets($a);
        fclose($a);
    }
    usleep(50000);
}
foreach ($chat as $c) fclose($c);
echo "demo traffic finished; restart the demo service for more\n";
sleep(PHP_INT_MAX);
