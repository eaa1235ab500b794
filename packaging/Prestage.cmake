# Run by cpack (CPACK_PRE_BUILD_SCRIPTS) on the staging tree before the
# .deb is made: Debian wants man pages and changelogs compressed with
# gzip -9n (no name, no time stamp: reproducible).
file(GLOB_RECURSE _certo_gz
  "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/man/man*/*"
  "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/doc/certo/changelog")
foreach(_f IN LISTS _certo_gz)
  if(NOT _f MATCHES "\\.gz$")
    execute_process(COMMAND gzip -9nf "${_f}" RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "gzip ${_f} failed: ${_rc}")
    endif()
  endif()
endforeach()
