#!/bin/sh
# The demo service: a Workerman stand-in with two apps' worth of workers, and client traffic.
set -e
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli >/dev/null
export WMSCOPE_STANDIN_CONFIG='{"start_file": "/srv/demo-chat/start.php", "workers": [
  {"name": "ChatWorker", "protocol": "tcp", "host": "0.0.0.0", "port": 7272, "count": 4, "reusePort": true},
  {"name": "ApiWorker", "protocol": "text", "host": "0.0.0.0", "port": 2347, "count": 2}]}'
php /demo/workerman-standin.php start -d
exec php /demo/traffic.php
