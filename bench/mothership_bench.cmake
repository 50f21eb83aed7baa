# mothership_bench: a real tte-mothership measured from outside – durable claims/s against raw
# SQLite commits/s, CoAP/DTLS enrollments/s against raw OpenSSL DTLS handshakes/s, a burst of
# devices at once, and server memory per DTLS session (bench/mothership_bench.cpp).
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(COAP_BENCH REQUIRED IMPORTED_TARGET libcoap-3-openssl)
if(NOT TARGET tte_mothership_test_support)  # the release preset builds no tests
  find_package(nlohmann_json REQUIRED)
  add_library(tte_mothership_test_support STATIC ${CMAKE_SOURCE_DIR}/tests/mothership/test_support.cpp)
  target_link_libraries(tte_mothership_test_support PUBLIC tte::base nlohmann_json::nlohmann_json OpenSSL::Crypto
    CURL::libcurl PkgConfig::COAP_BENCH PRIVATE tte_warnings)
endif()
tte_bench(NAME mothership_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/mothership_bench.cpp ${CMAKE_CURRENT_LIST_DIR}/mothership_bench_dtls.cpp
  LIBS tte::mothership tte_mothership_test_support CURL::libcurl OpenSSL::SSL SQLite::SQLite3 PkgConfig::COAP_BENCH)
target_include_directories(mothership_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
add_dependencies(mothership_bench tte-mothership)
