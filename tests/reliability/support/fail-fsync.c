/*
 * LD_PRELOAD shim that makes fsync(2) and fdatasync(2) fail with EIO, for the disk-fault
 * tests: a real host process meets a real failed fsync, not a mock. While the file named by
 * FAIL_FSYNC_WHEN exists, its content selects the descriptors that fail: a path prefixed
 * with '=' matches exactly (a directory), anything else is a substring of the path.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int should_fail(int fd) {
  const char *control = getenv("FAIL_FSYNC_WHEN");
  if (control == NULL) return 0;
  FILE *file = fopen(control, "r");
  if (file == NULL) return 0;
  char pattern[4096];
  size_t length = fread(pattern, 1, sizeof pattern - 1, file);
  fclose(file);
  pattern[length] = '\0';
  if (length == 0) return 0;

  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  return pattern[0] == '=' ? strcmp(target, pattern + 1) == 0 : strstr(target, pattern) != NULL;
}

int fsync(int fd) {
  static int (*real_fsync)(int);
  if (should_fail(fd)) {
    errno = EIO;
    return -1;
  }
  if (real_fsync == NULL) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  return real_fsync(fd);
}

int fdatasync(int fd) {
  static int (*real_fdatasync)(int);
  if (should_fail(fd)) {
    errno = EIO;
    return -1;
  }
  if (real_fdatasync == NULL) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  return real_fdatasync(fd);
}
