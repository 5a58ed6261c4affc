/*
 * LD_PRELOAD shim for the disk-fault tests: a real host process meets a real failing or
 * stalling fsync(2)/fdatasync(2), not a mock. While the file named by FAIL_FSYNC_WHEN
 * exists, it holds `<mode>:<pattern>`:
 *   fail:<pattern>   matching descriptors fail with EIO;
 *   block:<pattern>  matching descriptors wait until the file is removed or changed, then
 *                    sync; `<FAIL_FSYNC_WHEN>.reached` is created when one starts waiting.
 * A pattern prefixed with '=' must equal the descriptor's path (a directory); any other
 * pattern is a substring of it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_control(char *buffer, size_t size) {
  const char *control = getenv("FAIL_FSYNC_WHEN");
  if (control == NULL) return 0;
  FILE *file = fopen(control, "r");
  if (file == NULL) return 0;
  size_t length = fread(buffer, 1, size - 1, file);
  fclose(file);
  buffer[length] = '\0';
  return length > 0;
}

static int matches(int fd, const char *pattern) {
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  return pattern[0] == '=' ? strcmp(target, pattern + 1) == 0 : strstr(target, pattern) != NULL;
}

/* Returns -1 (errno set) when the sync must fail, 0 when it may go ahead. */
static int apply_fault(int fd) {
  char control[4096];
  if (!read_control(control, sizeof control)) return 0;
  if (strncmp(control, "fail:", 5) == 0 && matches(fd, control + 5)) {
    errno = EIO;
    return -1;
  }
  if (strncmp(control, "block:", 6) == 0 && matches(fd, control + 6)) {
    char reached[4200], now[4096];
    snprintf(reached, sizeof reached, "%s.reached", getenv("FAIL_FSYNC_WHEN"));
    FILE *marker = fopen(reached, "w");
    if (marker != NULL) fclose(marker);
    while (read_control(now, sizeof now) && strcmp(now, control) == 0) usleep(5000);
  }
  return 0;
}

int fsync(int fd) {
  static int (*real_fsync)(int);
  if (apply_fault(fd) != 0) return -1;
  if (real_fsync == NULL) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  return real_fsync(fd);
}

int fdatasync(int fd) {
  static int (*real_fdatasync)(int);
  if (apply_fault(fd) != 0) return -1;
  if (real_fdatasync == NULL) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  return real_fdatasync(fd);
}
