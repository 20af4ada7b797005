# slipway_add_web_assets(TARGET): embeds every file in web/ into TARGET (the server library)
# through a generated web_assets.cpp, which defines embedded_web_assets() for
# src/server/ui_assets.cpp. The file is regenerated when a web file changes, is added or is
# removed (the glob is re-checked at build time), or when the generator itself changes.
#
#   include(${PROJECT_SOURCE_DIR}/cmake/web_assets.cmake)
#   slipway_add_web_assets(slipway_server)
function(slipway_add_web_assets target)
  set(web_dir "${PROJECT_SOURCE_DIR}/web")
  set(generator "${PROJECT_SOURCE_DIR}/cmake/embed_assets.cmake")
  set(output "${CMAKE_CURRENT_BINARY_DIR}/generated/web_assets.cpp")
  file(GLOB web_files CONFIGURE_DEPENDS "${web_dir}/*")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" -DWEB_DIR=${web_dir} -DOUTPUT=${output} -P "${generator}"
    DEPENDS ${web_files} "${generator}"
    COMMENT "Embedding the web UI (web/) into the binary"
    VERBATIM)
  target_sources(${target} PRIVATE "${output}")
endfunction()
