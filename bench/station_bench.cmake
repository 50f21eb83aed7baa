# station_bench: the station's own overhead per device against the simulated flash time.
if(TARGET tte::station_flasher AND TARGET tte_test_fakes)
  tte_bench(NAME station_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/station_bench.cpp
    LIBS tte::station_flasher tte_test_fakes)
endif()
