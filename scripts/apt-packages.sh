# Shell functions for the install scripts (scripts/install-deps.sh,
# bench/install-bench-deps.sh); source it, do not run it.

# missing_packages PKG...: sets the array `missing` to the PKGs that dpkg
# does not list as installed, in order.
missing_packages() {
  missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
}

# apt_install WHO PKG...: installs the PKGs with apt-get, through sudo when
# not root; WHO names the script in its message.
apt_install() {
  local who=$1
  shift
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "$who: installing $*"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "$@"
}
