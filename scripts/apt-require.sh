# Sourced by the install scripts. apt_require CMD:PACKAGE... installs, in one apt-get run, the Debian packages whose
# command is missing; a no-op when every command is there. Extra apt-get options go in APT_OPTIONS.
apt_require() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing Debian packages: ${missing[*]}"
  local sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  # shellcheck disable=SC2086 # APT_OPTIONS is a list of options
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq ${APT_OPTIONS:-} "${missing[@]}" >/dev/null
}
