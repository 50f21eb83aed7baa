# Warnings, sanitizers and the helper that every part uses to declare its library.

add_library(tte_warnings INTERFACE)
target_compile_options(tte_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(TTE_WERROR)
  target_compile_options(tte_warnings INTERFACE -Werror)
endif()

if(TTE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# tte_library(NAME <part> ALIAS <tte::part> SOURCES ... [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# A static library whose public headers live in <folder>/include/tte/<part>/.
function(tte_library)
  cmake_parse_arguments(ARG "" "NAME;ALIAS" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  if(ARG_SOURCES)
    add_library(${ARG_NAME} STATIC ${ARG_SOURCES})
    target_include_directories(${ARG_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(${ARG_NAME} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_PRIVATE_LIBS} tte_warnings)
  else()
    add_library(${ARG_NAME} INTERFACE)
    target_include_directories(${ARG_NAME} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(${ARG_NAME} INTERFACE ${ARG_PUBLIC_LIBS})
  endif()
  add_library(${ARG_ALIAS} ALIAS ${ARG_NAME})
endfunction()

# tte_program(NAME <tte-xxx> SOURCES ... LIBS ...): a program in build/bin.
function(tte_program)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} tte_warnings)
endfunction()
