# cmake/install.cmake - what `cmake --install build [--prefix P]` puts
# where (README.md, "Install"). Everything installed is listed in
# build/install_manifest.txt, so `xargs rm < build/install_manifest.txt`
# removes it all; tests/install checks both.
#
# The prefix may be chosen at install time (--prefix), after configuring:
# what names it (cairn.pc, the CMake package, the systemd unit) is made
# relative to where it lies or written at install time.
include(CMakePackageConfigHelpers)

install(TARGETS cairn_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT runtime)
install(TARGETS ${CAIRN_LIBRARIES} EXPORT cairnTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
                NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/cairn
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
        FILES_MATCHING PATTERN "*.h")

# pkg-config: `pkg-config --cflags --libs cairn`, and --static for
# libcairn.a (Requires.private / Libs.private).
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/cairn.pc.in
               ${CMAKE_CURRENT_BINARY_DIR}/cairn.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cairn.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# CMake package: find_package(cairn) gives cairn::cairn (and
# cairn::cairn_static when libcairn.a is installed).
set(CAIRN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/cairn)
install(EXPORT cairnTargets NAMESPACE cairn:: DESTINATION ${CAIRN_CMAKE_DIR}
        COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/cairnConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cairnConfig.cmake
  INSTALL_DESTINATION ${CAIRN_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cairnConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cairnConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cairnConfigVersion.cmake
        DESTINATION ${CAIRN_CMAKE_DIR} COMPONENT dev)

install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md
              ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/docs/
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime
        FILES_MATCHING PATTERN "*.md")

# The systemd unit runs the installed command: its ExecStart is
# rewritten at install time, when the prefix is known, then installed
# like any file (DESTDIR, the manifest).
set(CAIRN_UNIT_SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/docs/cairn-recover.service)
set(CAIRN_UNIT ${CMAKE_CURRENT_BINARY_DIR}/cairn-recover.service)
install(CODE "
  file(READ \"${CAIRN_UNIT_SOURCE}\" unit)
  string(REPLACE \"=/usr/local/bin/cairn \"
         \"=\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/cairn \" unit \"\${unit}\")
  file(WRITE \"${CAIRN_UNIT}\" \"\${unit}\")" COMPONENT runtime)
install(FILES ${CAIRN_UNIT} DESTINATION lib/systemd/system COMPONENT runtime)

# cairn(1), generated from the option tables (`cairn help --man`).
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/man/cairn.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)

# bash completion (bash-completion loads it on demand by the name).
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/scripts/cairn.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME cairn COMPONENT runtime)

# Each Debian package has share/doc/PACKAGE/copyright (the license) and
# changelog.gz.
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/deb/changelog.in
               ${CMAKE_CURRENT_BINARY_DIR}/changelog @ONLY)
# Compressed at build time, as Debian wants them (gzip -9n: no name or
# time in the header, so the same sources give the same bytes).
add_custom_command(
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz
         ${CMAKE_CURRENT_BINARY_DIR}/man/cairn.1.gz
  COMMAND sh -c "gzip -9n -c changelog > changelog.gz && gzip -9n -c man/cairn.1 > man/cairn.1.gz"
  WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
  DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog
          ${CMAKE_CURRENT_BINARY_DIR}/man/cairn.1
  VERBATIM)
add_custom_target(cairn_compressed_docs ALL
  DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz
          ${CMAKE_CURRENT_BINARY_DIR}/man/cairn.1.gz)
foreach(package cairn cairn-dev)
  if(package STREQUAL cairn)
    set(component runtime)
  else()
    set(component dev)
  endif()
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package}
          COMPONENT ${component})
endforeach()
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/cairn RENAME copyright
        COMPONENT runtime)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/cairn-dev RENAME copyright
        COMPONENT dev)
