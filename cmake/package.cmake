# cmake/package.cmake - Debian packages with CPack (`make deb`): cairn
# (the command, libcairn.so.0, cairn(1), the bash completion, the docs
# and the systemd unit) and cairn-dev (headers, libcairn.so and
# libcairn.a, cairn.pc, the CMake package), from the install components
# of cmake/install.cmake. The runtime package's Depends are computed
# from the shared libraries it links (dpkg-shlibdeps).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cairn)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "cairn developers <cairn-dev@cairn-project.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "durable workflow engine: supersteps checkpointed in RocksDB")
set(CPACK_PACKAGE_DESCRIPTION
    "cairn runs workflows of executors as actors exchanging protobuf messages\nover ZeroMQ; each superstep's barrier is checkpointed in RocksDB, so a run\nkilled at any moment resumes with the result it would have had.")
# (CPack puts the summary on the first line of each description.)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "Headers and libraries to build against cairn: its C API\n(include/cairn), libcairn.so and libcairn.a, cairn.pc for pkg-config\nand the CMake package (find_package(cairn)).")
# ldconfig runs from a trigger, not from CPack's default maintainer
# scripts (which the no-op ones here replace).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/cmake/deb/triggers
    ${CMAKE_CURRENT_SOURCE_DIR}/cmake/deb/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/cmake/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME cairn)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME cairn-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# cairn.pc's Requires.private and cairnConfig.cmake (for libcairn.a)
# need the dependencies' own .pc files and pkg-config; scripts/check-deb
# checks this list against cairn.pc.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "cairn (= ${PROJECT_VERSION}), libczmq-dev, libzmq3-dev, libprotobuf-c-dev, libsodium-dev, libjansson-dev, librocksdb-dev, zlib1g-dev, pkgconf | pkg-config")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE)
include(CPack)
