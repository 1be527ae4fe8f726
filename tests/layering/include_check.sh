#!/bin/sh
# include_check.sh compiles|refuses CXX HEADER ROOT...
# Compiles a file that includes HEADER with only the given layer include roots
# and expects it to compile or to be refused. The refused cases prove that an
# upward include breaks the build; the compiling ones prove the check itself
# can pass, so a refusal is the layering and not a broken command.
set -u
expect=$1 cxx=$2 header=$3
shift 3
flags="-std=c++20 -fsyntax-only -x c++"
for root in "$@"; do flags="$flags -I$root"; done
if printf '#include "%s"\n' "$header" | $cxx $flags - 2>/tmp/include_check.$$; then
  result=compiles
else
  result=refused
fi
if [ "$result" = "$expect" ]; then rm -f /tmp/include_check.$$; exit 0; fi
echo "expected $header to be $expect with roots: $*; it $result" >&2
cat /tmp/include_check.$$ >&2
rm -f /tmp/include_check.$$
exit 1
