/*
 * Two processes bouncing one byte over a pair of pipes for a fixed time: every round trip is two
 * context switches on a busy host (both sleep in read()). Prints "roundtrips=N rate=R" (per
 * second). wmscope watches neither process: this measures what its sched_switch hook costs
 * everyone else.
 *
 *   pipe_pingpong -d SECONDS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = 5;
	int opt;
	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt == 'd')
			secs = atof(optarg);
		else {
			fprintf(stderr, "usage: %s -d SECONDS\n", argv[0]);
			return 2;
		}
	}
	if (secs <= 0 || secs > 600) {
		fprintf(stderr, "-d must be 0..600 seconds\n");
		return 2;
	}
	int ping[2], pong[2];
	if (pipe(ping) || pipe(pong)) {
		perror("pipe");
		return 1;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	char b = 'x';
	if (child == 0) {
		for (;;) {
			if (read(ping[0], &b, 1) != 1)
				_exit(0);
			if (write(pong[1], &b, 1) != 1)
				_exit(0);
		}
	}
	long n = 0;
	double start = now(), end = start + secs;
	while (now() < end) {
		for (int i = 0; i < 1000; i++) {
			if (write(ping[1], &b, 1) != 1 || read(pong[0], &b, 1) != 1) {
				perror("pingpong");
				return 1;
			}
		}
		n += 1000;
	}
	double took = now() - start;
	close(ping[1]);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	printf("roundtrips=%ld rate=%.0f\n", n, n / took);
	return 0;
}
