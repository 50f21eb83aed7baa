# Host build of firmware/: the portable enrollment core as tte::device_core (shared with
# tte-device), and the STM32 image cross-built into this build tree for the tests and the
# demo: ${CMAKE_BINARY_DIR}/firmware/tte-firmware.elf, .bin (and .dfu once tte-flash exists).
tte_library(NAME tte_device_core ALIAS tte::device_core
  SOURCES core/src/backoff.cpp core/src/console_lines.cpp
          core/src/controller_log.cpp core/src/enrollment.cpp core/src/led_blinker.cpp
  PUBLIC_LIBS tte::protocol_freestanding)
target_include_directories(tte_device_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/core/include)

set(TTE_FIRMWARE_DIR ${CMAKE_BINARY_DIR}/firmware CACHE INTERNAL "Where the host build puts the firmware image")
set(TTE_FIRMWARE_ELF ${TTE_FIRMWARE_DIR}/tte-firmware.elf CACHE INTERNAL "")
set(TTE_FIRMWARE_BIN ${TTE_FIRMWARE_DIR}/tte-firmware.bin CACHE INTERNAL "")
set(TTE_FIRMWARE_DFU ${TTE_FIRMWARE_DIR}/tte-firmware.dfu CACHE INTERNAL "")

if(NOT TTE_BUILD_FIRMWARE)
  message(STATUS "firmware: TTE_BUILD_FIRMWARE is OFF, the STM32 image is not built")
  return()
endif()
find_program(TTE_ARM_GCC arm-none-eabi-gcc)
if(NOT TTE_ARM_GCC)
  message(STATUS "firmware: arm-none-eabi-gcc not found (scripts/setup installs it), the STM32 image is not built")
  return()
endif()

# The cross build configures this same source tree with the toolchain file; the top-level
# CMakeLists.txt then only adds firmware/ (image.cmake). It runs on every build (Ninja inside
# decides what is stale), never with the host's sanitizers.
include(ExternalProject)
ExternalProject_Add(tte-firmware-image
  SOURCE_DIR ${CMAKE_SOURCE_DIR}
  BINARY_DIR ${CMAKE_BINARY_DIR}/firmware-cross
  CMAKE_GENERATOR Ninja
  CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${CMAKE_SOURCE_DIR}/cmake/arm-none-eabi.cmake
             -DCMAKE_BUILD_TYPE=MinSizeRel -DTTE_SANITIZE=OFF -DTTE_WERROR=${TTE_WERROR}
             -DTTE_FIRMWARE_OUTPUT_DIR=${TTE_FIRMWARE_DIR}
             -DTTE_FIRMWARE_PACK_DFU=OFF
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON
  BUILD_BYPRODUCTS ${TTE_FIRMWARE_ELF} ${TTE_FIRMWARE_BIN})
add_custom_target(tte-firmware-files ALL DEPENDS tte-firmware-image)

# The DfuSe file the station flashes, from tte-flash pack (flasher/).
if(TARGET tte-flash)
  add_custom_command(OUTPUT ${TTE_FIRMWARE_DFU}
    COMMAND tte-flash pack ${TTE_FIRMWARE_BIN} --address 0x08000000 -o ${TTE_FIRMWARE_DFU}
    DEPENDS tte-flash tte-firmware-image ${TTE_FIRMWARE_BIN}
    COMMENT "tte-firmware.dfu (tte-flash pack)" VERBATIM)
  add_custom_target(tte-firmware-dfu ALL DEPENDS ${TTE_FIRMWARE_DFU})
else()
  message(STATUS "firmware: no tte-flash target, tte-firmware.dfu is not made")
endif()
