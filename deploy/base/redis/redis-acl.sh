#!/bin/sh
# The platform's Redis users with their passwords, from the rules in config/redis-users.acl and a folder of
# password files named after the users (one password a line: a rotation holds the old and the new).
#
#   redis-acl.sh render RULES PASSWORDS            the ACL file for redis-server --aclfile, on stdout
#   redis-acl.sh sync RULES PASSWORDS [CLI-ARGS]   the running server's passwords made those of the files,
#                                                  with ACL SETUSER (redis-cli CLI-ARGS, signed in as admin)
#
# Passwords are written hashed (#<sha256>), never in clear. A user without a password file keeps none and
# cannot sign in. sync changes passwords only: every connection stays (ACL LOAD would close them all), so a
# password is rotated by adding the new line, letting the programs pick it up (they re-read their file every
# few seconds), then removing the old line. Rules are read at Redis's start; a change of rules takes a
# restart of Redis. POSIX sh: it runs in the Redis image and on the machine of ./run.sh.
set -eu

usage() { echo "usage: $0 render|sync RULES PASSWORDS [redis-cli arguments]" >&2; exit 2; }
[ $# -ge 3 ] || usage
mode=$1 rules=$2 passwords=$3
shift 3
[ -r "$rules" ] || { echo "$0: cannot read the rules file $rules" >&2; exit 1; }

# The hashes of a user's passwords, " #<sha256>" each, on one line; nothing when it has no file.
hashes() {
  file="$passwords/$1"
  [ -r "$file" ] || return 0
  tr -d '\r' <"$file" | while IFS= read -r password || [ -n "$password" ]; do
    [ -n "$password" ] || continue
    printf ' #%s' "$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)"
  done
}

# The rules' user lines, comments and blank lines dropped.
users() { grep -E '^[[:space:]]*user[[:space:]]' "$rules"; }

case "$mode" in
  render)
    users | while IFS= read -r line; do
      name=$(printf '%s\n' "$line" | awk '{print $2}')
      printf '%s%s\n' "$line" "$(hashes "$name")"
    done
    ;;
  sync)
    users | awk '{print $2}' | while IFS= read -r name; do
      [ "$name" != default ] || continue
      set_hashes=$(hashes "$name")
      # A missing or empty file leaves the server's passwords as they are: never lock a program out by mistake.
      [ -n "$set_hashes" ] || continue
      # shellcheck disable=SC2086 # one argument per hash
      answer=$(redis-cli --no-auth-warning "$@" ACL SETUSER "$name" resetpass $set_hashes)
      [ "$answer" = OK ] || { echo "$0: ACL SETUSER $name: $answer" >&2; exit 1; }
    done
    ;;
  *) usage ;;
esac
