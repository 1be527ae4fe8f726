#pragma once
// "The calling thread's T": a worker installs its send batch, its reads ahead
// and its readiness watch on its own thread for the process's epoll_wait()
// wrapper (epoll_wait_hook.cpp) to find; on any other thread current() is null.
namespace infergate {

template <class T>
class ThreadCurrent {
 public:
  static T* current() { return current_; }
  // Makes `object` the calling thread's T for its life (null: none).
  class Installed {
   public:
    explicit Installed(T* object) : previous_(current_) { current_ = object; }
    ~Installed() { current_ = previous_; }
    Installed(const Installed&) = delete;
    Installed& operator=(const Installed&) = delete;

   private:
    T* previous_;
  };

 private:
  // Constant-initialised and defined here, so that every file reaches it
  // directly, not through a thread_local wrapper function (which UBSan
  // reported as a store through a null pointer: ASan+UBSan soak, session 27).
  static constinit inline thread_local T* current_ = nullptr;
};

}  // namespace infergate
