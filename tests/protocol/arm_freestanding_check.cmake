# Compiles each source of tte::protocol_freestanding with the firmware's flags
# (arm-none-eabi-g++, C++20, Cortex-M4, no exceptions/RTTI, freestanding) and fails when one
# does not build or when an object needs a symbol beyond memcpy/memset/memmove (no heap, no
# libstdc++ runtime, no exceptions).
#   cmake -DCXX=arm-none-eabi-g++ -DNM=arm-none-eabi-nm -DINCLUDE=<dir> -DOUT=<dir> "-DSOURCES=a;b" -P this
file(MAKE_DIRECTORY ${OUT})
foreach(src IN LISTS SOURCES)
  if(src STREQUAL "")
    continue()
  endif()
  get_filename_component(name ${src} NAME_WE)
  set(obj ${OUT}/${name}.o)
  execute_process(
    COMMAND ${CXX} -std=c++20 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
            -fno-exceptions -fno-rtti -ffreestanding -Os -Wall -Wextra -Wpedantic -Werror
            -I${INCLUDE} -c ${src} -o ${obj}
    RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "arm-none-eabi-g++ failed on ${src}:\n${out}${err}")
  endif()
  list(APPEND objects ${obj})
  message(STATUS "${name}.o builds for Cortex-M4")
endforeach()
# Link the objects together (relocatable) so only symbols from outside remain undefined.
set(all ${OUT}/protocol_freestanding.o)
execute_process(COMMAND ${CXX} -r -nostdlib ${objects} -o ${all} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "partial link failed:\n${err}")
endif()
execute_process(COMMAND ${NM} -u ${all} OUTPUT_VARIABLE undefined RESULT_VARIABLE rc)
string(REGEX REPLACE "[ \t]*U (memcpy|memset|memmove)\n" "" rest "${undefined}")
string(STRIP "${rest}" rest)
if(NOT rc EQUAL 0 OR NOT rest STREQUAL "")
  message(FATAL_ERROR "the freestanding objects need symbols a firmware build lacks:\n${rest}")
endif()
message(STATUS "no undefined symbols beyond memcpy/memset/memmove")
