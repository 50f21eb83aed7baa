# Prints the firmware's flash and RAM use. Flash: the size of the .bin, i.e. everything that is
# written from 0x08000000 (vector table, code, constants, .data initial values, padding).
# RAM: data + bss from arm-none-eabi-size (bss includes the stack the linker script reserves).
execute_process(COMMAND ${SIZE} -B -d ${ELF} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "arm-none-eabi-size failed on ${ELF}")
endif()
string(REGEX MATCH "\n[ \t]*([0-9]+)[ \t]+([0-9]+)[ \t]+([0-9]+)" _ "${out}")
file(SIZE ${BIN} flash)
math(EXPR ram "${CMAKE_MATCH_2} + ${CMAKE_MATCH_3}")
math(EXPR flashPct "${flash} * 100 / 32768")
math(EXPR ramPct "${ram} * 100 / 131072")
message("${out}")
message("tte-firmware size: flash ${flash} of 32768 bytes (${flashPct}%), RAM ${ram} of 131072 bytes (${ramPct}%, stack included)")
