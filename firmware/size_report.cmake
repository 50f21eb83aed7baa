# Prints the firmware's flash and RAM use from arm-none-eabi-size (Berkeley format):
# flash = text + data (the .data initial values live in flash), RAM = data + bss (bss includes
# the stack reserved by the linker script).
execute_process(COMMAND ${SIZE} -B -d ${ELF} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "arm-none-eabi-size failed on ${ELF}")
endif()
string(REGEX MATCH "\n[ \t]*([0-9]+)[ \t]+([0-9]+)[ \t]+([0-9]+)" _ "${out}")
math(EXPR flash "${CMAKE_MATCH_1} + ${CMAKE_MATCH_2}")
math(EXPR ram "${CMAKE_MATCH_2} + ${CMAKE_MATCH_3}")
math(EXPR flashPct "${flash} * 100 / 32768")
math(EXPR ramPct "${ram} * 100 / 131072")
message("${out}")
message("tte-firmware size: flash ${flash} of 32768 bytes (${flashPct}%), RAM ${ram} of 131072 bytes (${ramPct}%, stack included)")
