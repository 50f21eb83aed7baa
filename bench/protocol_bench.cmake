# protocol_bench: parsing and checksum costs of tte::protocol against bounds measured in the
# same run (zlib's CRC-32, the OTP hash the MotherShip computes per request anyway, a bare
# nlohmann::json parse).
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
tte_bench(NAME protocol_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/protocol_bench.cpp
  LIBS tte::protocol ZLIB::ZLIB nlohmann_json::nlohmann_json)
