# The Debian package: cmake --build BUILD --target package writes
# certo_<version>_<arch>.deb (CPack DEB) into BUILD.
#
# Configure the package build with the prefix it installs to, so that the
# systemd units name the packaged binaries (/usr/bin/certo):
#   cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCERTO_TESTS=OFF \
#       -DCMAKE_INSTALL_PREFIX=/usr -DCERTO_SYSTEMD_UNITDIR=/lib/systemd/system
#   cmake --build build-deb --target package
# Depends comes from the linked libraries (dpkg-shlibdeps) plus adduser for
# the maintainer scripts; the man pages and the changelog are compressed
# in the staging tree (packaging/Prestage.cmake), as Debian policy wants.
# tests/package/deb.sh builds, inspects, unpacks, runs and lintian-checks it.

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "certo: the package target wants -DCMAKE_INSTALL_PREFIX=/usr "
    "(now ${CMAKE_INSTALL_PREFIX}: the packaged systemd units would name it)")
endif()

# The documents lintian looks for, next to the ones Debian keeps per package.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright
  ${PROJECT_SOURCE_DIR}/packaging/changelog
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/certo)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "certo")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "certo maintainers <certo@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ACME (RFC 8555) client and challenge responder")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The maintainer scripts call adduser; the rest is dpkg-shlibdeps's.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# The extended description; CPack puts the summary above it and indents it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"certo obtains, renews and revokes certificates from ACME CAs such as
Let's Encrypt. It answers http-01, tls-alpn-01 and dns-01 challenges
with built-in servers, hooks, or the long-running certo-responder
daemon, which binds ports 80 and 443 and drops its privileges to the
certo-responder user.

The package ships systemd units for the responder and a timer that
renews due certificates twice a day; neither is enabled on install.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${CMAKE_CURRENT_BINARY_DIR}/packaging/postinst;${CMAKE_CURRENT_BINARY_DIR}/packaging/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PRE_BUILD_SCRIPTS "${PROJECT_SOURCE_DIR}/packaging/Prestage.cmake")
# dpkg-deb -Zxz, as Debian's own packages.
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")

# Maintainer scripts must be executable (CONTROL_STRICT_PERMISSION keeps
# the mode configure_file gives them).
foreach(script postinst postrm)
  file(COPY ${PROJECT_SOURCE_DIR}/packaging/${script}
    DESTINATION ${CMAKE_CURRENT_BINARY_DIR}/packaging
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
    GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()

include(CPack)
