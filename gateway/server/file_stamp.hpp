#pragma once
// What tells a changed file apart for the reloaders (polled): its inode (a
// rename over it counts), size and modification time.
#include <sys/stat.h>

#include <string>

namespace infergate {

struct FileStamp {
  ino_t inode = 0;
  off_t size = -1;
  long long mtimeNs = 0;
  bool operator==(const FileStamp&) const = default;

  static FileStamp of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return {st.st_ino, st.st_size, static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  }
};

}  // namespace infergate
