#pragma once
// Sockets whose reactor reports the peer's close (EPOLLRDHUP), so that a read
// that came back short can be trusted to have drained the socket.
//
// Why: after a short read the next read may wait for the next epoll event
// without a recv() first (socket_read.hpp). The one thing no later event
// announces is a FIN that had already arrived when the event for the data
// was reported: the edge was spent. A stream read this way would then sit
// until its idle timeout although the model server is gone. Reads in the
// middle of a message therefore tried recv() first, and on a stream that is
// one recv() returning EAGAIN for every event relayed (strace: 21 of 43
// recvfrom per 20-token stream). nginx and HAProxy avoid it the same way as
// this: with EPOLLRDHUP in the registration, the event that reports the data
// also says whether the FIN came with it, and only then is the short read not
// taken as the end of what is there.
//
// Bound to Boost 1.81's epoll reactor, like socket_read.hpp: the reactor's
// registration and the last events it saw on a descriptor are not public, and
// are reached here by name (peer_close_events.cpp).
#include "gateway/net/worker_io.hpp"

namespace infergate {

// For a socket just opened, before async_connect: the registration change the
// connect's wait makes (EPOLLOUT) carries EPOLLRDHUP too, and the first read
// waits for an event (the socket has received nothing). No system call.
void reportPeerCloseFromConnect(WorkerSocket& socket);

// Makes sure `socket`'s registration with its worker's reactor has
// EPOLLRDHUP: nothing to do after reportPeerCloseFromConnect and a connect
// that waited, else one epoll_ctl. Call on the worker's thread once the
// socket is open; false when the socket is not registered or the kernel
// refuses (reads then keep trying recv() first).
bool reportPeerClose(WorkerSocket& socket);

// The events the reactor last reported for `socket`, when its registration
// reports the peer's close (reportPeerClose); null otherwise. Valid while the
// socket stays open; read on the worker's thread. peerCloseReported
// (socket_read.hpp) tells from them whether the peer's FIN has arrived.
const unsigned* peerCloseEventsOf(WorkerSocket& socket);

// Whether the reactor holds `socket` drained: registered with EPOLLRDHUP, its
// last read came back short with no FIN reported, and no event has come since
// (Asio's speculative-read mark cleared). Whatever arrives next raises a
// fresh event, so the socket may be watched (readiness_watch.hpp) rather than
// read. False when it is not known.
bool heldDrained(WorkerSocket& socket);

// After a short read made outside the reactor (a watch's recv()), with no FIN
// reported: the socket is drained, as the reactor marks it after its own.
void markDrained(WorkerSocket& socket);
// After a read made outside the reactor that may have left bytes or a FIN:
// the next read tries the socket first.
void markReadable(WorkerSocket& socket);

}  // namespace infergate
