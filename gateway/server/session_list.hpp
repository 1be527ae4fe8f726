#pragma once
// The sessions a worker has open, for draining and cutting them: an intrusive
// list, so a connection registers without an allocation (a std::list node was
// 32 bytes of every open stream) and leaves the list when it is destroyed.
#include <boost/intrusive/list.hpp>

namespace infergate {

// What a session derives from to be listed.
using SessionLink = boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
template <class Session>
using SessionList = boost::intrusive::list<Session, boost::intrusive::base_hook<SessionLink>,
                                         boost::intrusive::constant_time_size<false>>;

}  // namespace infergate
