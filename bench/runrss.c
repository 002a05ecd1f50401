/* Runs a command and writes "SECONDS MAXRSS_KIB" (wall time, ru_maxrss of the child) to REPORT.
 *
 * Usage: runrss REPORT CMD [ARG...]   exits with CMD's status (128+N for a signal)
 *
 * Why a separate launcher: Linux copies the peak RSS of the address space a process leaves at
 * exec into that process's ru_maxrss, so a child started by the benchmark's Python (which holds
 * the generated inputs) reports at least Python's own peak. Forked from this small process, the
 * child's figure is its own. bench.py compiles it with cc (the linker cargo already needs).
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: runrss REPORT CMD [ARG...]\n");
        return 125;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("runrss: fork");
        return 125;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("runrss: exec");
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("runrss: wait4");
        return 125;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    FILE *report = fopen(argv[1], "w");
    if (!report) {
        perror(argv[1]);
        return 125;
    }
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    fprintf(report, "%.9f %ld\n", seconds, usage.ru_maxrss);
    if (fclose(report) != 0) {
        perror(argv[1]);
        return 125;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
