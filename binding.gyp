{
  "targets": [
    {
      "target_name": "weir_native",
      "sources": ["native/weir.c"],
      "cflags": ["-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_c": ["-std=gnu11"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-Wall", "-Wextra", "-std=gnu11", "-fvisibility=hidden"]
      }
    }
  ]
}
