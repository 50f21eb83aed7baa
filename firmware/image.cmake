# The firmware image, cross-built with arm-none-eabi-gcc (the `firmware` preset, or the host
# build's ExternalProject, see host.cmake): tte-firmware.elf and .bin, a size report, and
# tte-firmware.dfu when tte-flash is at hand.
set(TTE_FW_CPU_FLAGS -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
set(TTE_FIRMWARE_OUTPUT_DIR ${CMAKE_BINARY_DIR}/firmware CACHE PATH "Where tte-firmware.elf/.bin/.dfu go")
set(TTE_FLASH_PROGRAM "" CACHE FILEPATH "tte-flash, to pack tte-firmware.dfu (default: build/bin/tte-flash)")
option(TTE_FIRMWARE_PACK_DFU "Pack tte-firmware.dfu with tte-flash here (the host build packs its own)" ON)

# The block, CRC-32, LED frame, controller record and CoAP CBOR code of tte::protocol_freestanding: the
# same sources the host library is built from, so the device and the station parse alike.
file(GLOB TTE_FW_PROTOCOL_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/protocol/src/freestanding/*.cpp)

add_executable(tte-firmware
  port/startup.cpp port/clock.cpp port/console.cpp port/tick.cpp port/flash.cpp
  core/src/console_lines.cpp core/src/controller_log.cpp core/src/led_blinker.cpp
  core/src/backoff.cpp core/src/enrollment.cpp
  app/main.cpp ${TTE_FW_PROTOCOL_SOURCES})
set_target_properties(tte-firmware PROPERTIES SUFFIX ".elf" CXX_STANDARD 20 RUNTIME_OUTPUT_DIRECTORY ${TTE_FIRMWARE_OUTPUT_DIR}
  LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/port/linker.ld)
target_include_directories(tte-firmware PRIVATE port core/include
  ${CMAKE_SOURCE_DIR}/protocol/include ${CMAKE_SOURCE_DIR}/protocol/src/freestanding)
target_compile_options(tte-firmware PRIVATE ${TTE_FW_CPU_FLAGS}
  $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit>
  -ffunction-sections -fdata-sections -fno-common)
# No startup files, newlib-nano, and no _sbrk/syscalls: anything that would allocate from a
# heap fails to link, which enforces "no heap" rather than trusting it.
target_link_options(tte-firmware PRIVATE ${TTE_FW_CPU_FLAGS}
  -T${CMAKE_CURRENT_SOURCE_DIR}/port/linker.ld -nostartfiles --specs=nano.specs
  -Wl,--gc-sections -Wl,-Map=${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.map -Wl,--print-memory-usage)
target_link_libraries(tte-firmware PRIVATE tte_warnings)

add_custom_command(TARGET tte-firmware POST_BUILD
  COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:tte-firmware> ${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.bin
  COMMAND ${CMAKE_COMMAND} -DELF=$<TARGET_FILE:tte-firmware> -DBIN=${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.bin -DSIZE=${CMAKE_SIZE}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/size_report.cmake
  BYPRODUCTS ${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.bin
  VERBATIM)

# The .dfu (DfuSe file for the station's flasher) comes from `tte-flash pack`.
if(NOT TTE_FIRMWARE_PACK_DFU)
  return()
endif()
if(NOT TTE_FLASH_PROGRAM)
  find_program(TTE_FLASH_FOUND tte-flash HINTS ${CMAKE_SOURCE_DIR}/build/bin NO_DEFAULT_PATH)
  if(TTE_FLASH_FOUND)
    set(TTE_FLASH_PROGRAM ${TTE_FLASH_FOUND})
  endif()
endif()
if(TTE_FLASH_PROGRAM)
  add_custom_command(OUTPUT ${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.dfu
    COMMAND ${TTE_FLASH_PROGRAM} pack ${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.bin --address 0x08000000
            -o ${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.dfu
    DEPENDS tte-firmware ${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.bin
    COMMENT "tte-firmware.dfu (tte-flash pack)" VERBATIM)
  add_custom_target(tte-firmware-dfu ALL DEPENDS ${TTE_FIRMWARE_OUTPUT_DIR}/tte-firmware.dfu)
else()
  message(STATUS "firmware: no tte-flash (build the host preset first, or set TTE_FLASH_PROGRAM); "
                 "tte-firmware.dfu is not made")
endif()
