# flash_bench: DfuSe protocol overhead and gang throughput on the simulated STM32F405.
tte_bench(NAME flash_bench SOURCES flash_bench.cpp LIBS tte::flasher)
