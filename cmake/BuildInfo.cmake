# Writes tte/base/build_info.h (run by CMake at build time, see base/CMakeLists.txt):
#   cmake -DSOURCE_DIR=… -DINPUT=…/build_info.h.in -DOUTPUT=… -DPROJECT_VERSION=… -DBUILD_TYPE=…
#         [-DREVISION=…] -P BuildInfo.cmake
# The revision is `git describe --tags --always --dirty` of the source tree, or REVISION when
# given (-DTTE_GIT_REVISION=… for a source tarball), or "unknown" outside git. configure_file()
# leaves the header untouched when nothing changed, so nothing is rebuilt needlessly.
if(REVISION)
  set(TTE_GIT_REVISION "${REVISION}")
else()
  execute_process(COMMAND git -C "${SOURCE_DIR}" describe --tags --always --dirty --abbrev=12
    OUTPUT_VARIABLE TTE_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _tte_git)
  if(_tte_git OR NOT TTE_GIT_REVISION)
    set(TTE_GIT_REVISION "unknown")
  endif()
endif()
set(TTE_BUILD_TYPE_NAME "${BUILD_TYPE}")
configure_file("${INPUT}" "${OUTPUT}" @ONLY)
