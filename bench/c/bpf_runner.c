// bpf_runner.c - loads a BPF object, attaches every program (sock_ops to a cgroup, the others
// where their section says), holds them for SECONDS and prints "program run_cnt run_time_ns"
// for each; the links go away with the process, also when it is killed.
//
//   bpf_runner OBJECT CGROUP_DIR PORT SECONDS
//
// PORT goes to the object's .rodata (a const volatile __u16, the first variable there).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *rodata;
	int cgroup, seconds;
	__u16 port;

	if (argc != 5) {
		fprintf(stderr, "usage: bpf_runner OBJECT CGROUP_DIR PORT SECONDS\n");
		return 2;
	}
	port = (__u16)atoi(argv[3]);
	seconds = atoi(argv[4]);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		perror("open BPF object");
		return 1;
	}
	rodata = bpf_object__find_map_by_name(obj, ".rodata");
	if (rodata && bpf_map__set_initial_value(rodata, &port, sizeof(port))) {
		fprintf(stderr, "set the port in .rodata\n");
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "load %s failed\n", argv[1]);
		return 1;
	}
	cgroup = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cgroup < 0) {
		perror(argv[2]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		struct bpf_link *link = bpf_program__type(prog) == BPF_PROG_TYPE_SOCK_OPS
			? bpf_program__attach_cgroup(prog, cgroup) : bpf_program__attach(prog);

		if (!link) {
			fprintf(stderr, "attach %s failed\n", bpf_program__name(prog));
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	sleep(seconds);
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
			printf("%s %llu %llu\n", bpf_program__name(prog), (unsigned long long)info.run_cnt,
			       (unsigned long long)info.run_time_ns);
	}
	return 0; /* exiting closes the links: every program is detached */
}
