# registry_bench: the registry at 2^24 - 1 devices against 100,000 (import, status lookups,
# claims, CoAP registrations, the gauges) on SQLite and on a PostgreSQL it starts (bench/registry_bench.cpp).
# Its smoke entry loads 20,000 records into both and checks that every output line is a
# figure in the benchmarks' JSON form (check_figures.cmake); the figures themselves pass or
# fail nothing there.
add_executable(registry_bench ${CMAKE_CURRENT_LIST_DIR}/registry_bench.cpp ${CMAKE_CURRENT_LIST_DIR}/registry_bench_records.cpp
  ${CMAKE_CURRENT_LIST_DIR}/host_reclaim.cpp)
target_link_libraries(registry_bench PRIVATE tte::mothership tte_test_support tte_bench_report tte_warnings)
add_test(NAME registry_bench_smoke
  COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:registry_bench> "-DARGS=--smoke;--json"
    -DEXPECT=22 "-DNAMES=import records/s;status lookup p50;status lookup p99;status lookup p99, database read once;claims/s;CoAP registrations/s;registry gauges and lot use read"
    -P ${CMAKE_CURRENT_LIST_DIR}/check_figures.cmake)
set_tests_properties(registry_bench_smoke PROPERTIES LABELS bench-smoke TIMEOUT 120
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
