# The spec files of the rpm corpus, sourced by build-rpm-images.sh: `write_specs STAGE` writes into
# $SPECS the 8 source packages as they are at STAGE (base, or updated: corelib, iputils-lite and
# tzdata-lite at newer versions with a newer %changelog entry on top).
#
# The spec files' %install sections make their content with a `noise SEED SIZE` function:
# incompressible bytes that are the same on every build (openssl's AES-CTR keystream).
# changelog ENTRY...: each "Day Mon DD YYYY|version-release|text", newest first.
changelog() {
  local e d vr text
  for e in "$@"; do
    IFS='|' read -r d vr text <<<"$e"
    printf '* %s Corpus Builder <corpus@example.org> - %s\n- %s\n\n' "$d" "$vr" "$text"
  done
}
spec_head() { # NAME VERSION RELEASE ARCH SUMMARY
  cat <<EOF
%global debug_package %{nil}
%global __os_install_post %{nil}
Name: $1
Version: $2
Release: $3
Summary: $5
License: MIT
BuildArch: $4
AutoReqProv: no
%description
$5 (rechunker rpm corpus).
EOF
}
sub() { # SUFFIX SUMMARY REQUIRED: a subpackage that needs REQUIRED at the same version-release
  printf '%%package %s\nSummary: %s\nAutoReqProv: no\n' "$1" "$2"
  printf 'Requires: %s = %%{version}-%%{release}\n%%description %s\n%s.\n' "$3" "$1" "$2"
}

write_specs() { # STAGE: base or updated; writes into $SPECS
  local s=$1 cl_corelib cl_ping cl_tz
  local corelib_v=1.4.0 ping_r=1 tz_v=2025a
  cl_corelib=("Mon Mar 03 2025|1.4.0-1|Update to 1.4.0" "Tue Oct 15 2024|1.3.2-1|Update to 1.3.2")
  cl_ping=("Wed Jan 08 2025|20240905-1|Update to 20240905")
  cl_tz=("Thu Jan 16 2025|2025a-1|Update to 2025a")
  if [ "$s" = updated ]; then
    corelib_v=1.4.1; ping_r=2; tz_v=2025b
    cl_corelib=("Fri May 16 2025|1.4.1-1|Update to 1.4.1 (security fix)" "${cl_corelib[@]}")
    cl_ping=("Mon May 12 2025|20240905-2|Fix arping capabilities" "${cl_ping[@]}")
    cl_tz=("Mon Mar 24 2025|2025b-1|Update to 2025b" "${cl_tz[@]}")
  fi

  { spec_head filesystem 3.18 6 noarch "The basic directory layout"
    cat <<'EOF'
%install
cd %{buildroot}
mkdir -p etc usr/bin usr/sbin usr/lib usr/lib64 usr/share/doc usr/share/man/man1 usr/libexec var/lib var/log sysroot opt
ln -s usr/bin bin; ln -s usr/sbin sbin; ln -s usr/lib lib; ln -s usr/lib64 lib64
%files
%dir /etc
%dir /usr
%dir /usr/bin
%dir /usr/sbin
%dir /usr/lib
%dir /usr/lib64
%dir /usr/share
%dir /usr/share/doc
%dir /usr/share/man
%dir /usr/share/man/man1
%dir /usr/libexec
%dir /var
%dir /var/lib
%dir /var/log
%dir /sysroot
%dir /opt
/bin
/sbin
/lib
/lib64
%changelog
EOF
    changelog "Tue Jul 23 2024|3.18-6|Rebuilt for the mass rebuild"; } >"$SPECS/filesystem.spec"

  { spec_head setup 2.15.0 1 noarch "System configuration files"
    cat <<'EOF'
%install
mkdir -p %{buildroot}/etc
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/sbin/nologin\n' >%{buildroot}/etc/passwd
printf 'root:x:0:\nwheel:x:10:\nnobody:x:65534:\n' >%{buildroot}/etc/group
printf 'NAME="Corpus Linux"\nVERSION_ID=42\nID=corpus\n' >%{buildroot}/etc/os-release
echo '/bin/bash' >%{buildroot}/etc/shells
%files
%config(noreplace) /etc/passwd
%config(noreplace) /etc/group
%config(noreplace) /etc/shells
/etc/os-release
%changelog
EOF
    changelog "Mon Feb 10 2025|2.15.0-1|Update to 2.15.0"; } >"$SPECS/setup.spec"

  { spec_head corelib "$corelib_v" 1 x86_64 "The core runtime library"
    sub devel "Headers for corelib" corelib
    sub tools "Command line tools of corelib" corelib
    cat <<EOF
%install
mkdir -p %{buildroot}/usr/lib64 %{buildroot}/usr/include/corelib %{buildroot}/usr/bin
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:\$1" </dev/zero 2>/dev/null | head -c "\$2"; }
noise corelib-$corelib_v 700000 >%{buildroot}/usr/lib64/libcorelib.so.1.4
ln -s libcorelib.so.1.4 %{buildroot}/usr/lib64/libcorelib.so.1
ln -s libcorelib.so.1 %{buildroot}/usr/lib64/libcorelib.so
for h in core io mem str; do
  printf '/* corelib $corelib_v: %%s */\n#define CORE_%%s 1\n' \$h \$h >%{buildroot}/usr/include/corelib/\$h.h
done
noise coretool-$corelib_v 90000 >%{buildroot}/usr/bin/coretool
chmod 755 %{buildroot}/usr/bin/coretool
%files
/usr/lib64/libcorelib.so.1.4
/usr/lib64/libcorelib.so.1
%files devel
/usr/lib64/libcorelib.so
/usr/include/corelib
%files tools
/usr/bin/coretool
%changelog
EOF
    changelog "${cl_corelib[@]}"; } >"$SPECS/corelib.spec"

  { spec_head coreutils-lite 9.5 3 x86_64 "Basic file and text utilities"
    sub doc "Documentation of coreutils-lite" coreutils-lite
    cat <<'EOF'
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/share/man/man1 %{buildroot}/usr/share/doc/coreutils-lite
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
for t in cat cp ls mv rm sort; do noise "cu-$t" 40000 >%{buildroot}/usr/bin/$t; chmod 755 %{buildroot}/usr/bin/$t; done
# one program under two names: a hardlink pair, as in many real packages
ln %{buildroot}/usr/bin/ls %{buildroot}/usr/bin/dir
for t in cat cp ls mv rm sort; do
  printf '.TH %%s 1\n.SH NAME\n%%s \\- coreutils-lite\n' $t $t | gzip -n >%{buildroot}/usr/share/man/man1/$t.1.gz
done
yes 'coreutils-lite, a corpus package.' | head -c 60000 >%{buildroot}/usr/share/doc/coreutils-lite/README
%files
/usr/bin/cat
/usr/bin/cp
/usr/bin/ls
/usr/bin/dir
/usr/bin/mv
/usr/bin/rm
/usr/bin/sort
%files doc
/usr/share/man/man1/*.1.gz
%doc /usr/share/doc/coreutils-lite
%changelog
EOF
    changelog "Wed Nov 20 2024|9.5-3|Rebuilt" "Fri Jun 14 2024|9.5-1|Update to 9.5"; } >"$SPECS/coreutils-lite.spec"

  { spec_head iputils-lite 20240905 "$ping_r" x86_64 "Network monitoring tools"
    cat <<'EOF'
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/sbin
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
noise ping-%{release} 80000 >%{buildroot}/usr/bin/ping
noise arping-%{release} 50000 >%{buildroot}/usr/sbin/arping
noise tracepath 30000 >%{buildroot}/usr/bin/tracepath
chmod 755 %{buildroot}/usr/bin/ping %{buildroot}/usr/sbin/arping %{buildroot}/usr/bin/tracepath
%files
%caps(cap_net_raw=p) /usr/bin/ping
%caps(cap_net_raw,cap_net_admin=ep) /usr/sbin/arping
/usr/bin/tracepath
%changelog
EOF
    changelog "${cl_ping[@]}"; } >"$SPECS/iputils-lite.spec"

  { spec_head python-lite 3.13.2 1 x86_64 "A language runtime with many small files"
    sub libs "The standard library of python-lite" python-lite
    sub test "The test suite of python-lite" python-lite-libs
    cat <<'EOF'
%install
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
L=%{buildroot}/usr/lib64/python3.13
mkdir -p %{buildroot}/usr/bin $L/test
noise python3.13 30000 >%{buildroot}/usr/bin/python3.13; chmod 755 %{buildroot}/usr/bin/python3.13
ln -s python3.13 %{buildroot}/usr/bin/python3
for p in json email http xml asyncio; do
  mkdir -p $L/$p/__pycache__
  for m in __init__ core util parse; do
    yes "# $p.$m: module source" | head -c 6000 >$L/$p/$m.py
    noise "$p-$m" 5000 >$L/$p/__pycache__/$m.cpython-313.pyc
  done
done
for i in $(seq 1 40); do yes "# test_$i" | head -c 3000 >$L/test/test_$i.py; done
%files
/usr/bin/python3.13
/usr/bin/python3
%files libs
%dir /usr/lib64/python3.13
/usr/lib64/python3.13/json
/usr/lib64/python3.13/email
/usr/lib64/python3.13/http
/usr/lib64/python3.13/xml
/usr/lib64/python3.13/asyncio
%files test
/usr/lib64/python3.13/test
%changelog
EOF
    changelog "Thu Feb 06 2025|3.13.2-1|Update to 3.13.2" "Tue Dec 03 2024|3.13.1-1|Update to 3.13.1"
  } >"$SPECS/python-lite.spec"

  { spec_head tzdata-lite "$tz_v" 1 noarch "Time zone data"
    cat <<'EOF'
%install
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
Z=%{buildroot}/usr/share/zoneinfo
for r in Europe America Asia Africa; do
  mkdir -p $Z/$r
  for c in $(seq 1 15); do noise "%{version}-$r-$c" 1200 >$Z/$r/City$c; done
done
ln -s Europe/City1 $Z/UTC
%files
/usr/share/zoneinfo
%changelog
EOF
    changelog "${cl_tz[@]}"; } >"$SPECS/tzdata-lite.spec"

  { spec_head kernel-lite 6.12.9 200 x86_64 "The kernel and its modules"
    sub modules "Kernel modules" kernel-lite-core
    cat <<'EOF'
%package core
Summary: The kernel image
AutoReqProv: no
%description core
The kernel image.
%install
noise() { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null | head -c "$2"; }
K=%{buildroot}/usr/lib/modules/6.12.9-200.x86_64
mkdir -p $K/kernel/drivers/net $K/kernel/fs
noise vmlinuz 1600000 >$K/vmlinuz
for m in e1000e igb r8169; do noise "$m" 90000 >$K/kernel/drivers/net/$m.ko; done
for m in ext4 xfs btrfs; do noise "$m" 120000 >$K/kernel/fs/$m.ko; done
%files core
%dir /usr/lib/modules
%dir /usr/lib/modules/6.12.9-200.x86_64
/usr/lib/modules/6.12.9-200.x86_64/vmlinuz
%files modules
/usr/lib/modules/6.12.9-200.x86_64/kernel
%changelog
EOF
    changelog "Sat Jan 11 2025|6.12.9-200|Update to 6.12.9"; } >"$SPECS/kernel-lite.spec"
}
