{
  # node-addon-api binding to libostree (Debian libostree-dev: pkg-config ostree-1 brings gio,
  # gobject and glib). Build: npm run build:native (= node-gyp rebuild -C native).
  "targets": [
    {
      "target_name": "atomic_ostree",
      "sources": [
        "src/addon.cc",
        "src/async-worker.cc",
        "src/cancellable.cc",
        "src/commit.cc",
        "src/common.cc",
        "src/deployment.cc",
        "src/errors.cc",
        "src/pull.cc",
        "src/repo.cc",
        "src/sysroot.cc",
        "src/variant.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["<!@(pkg-config --cflags ostree-1)", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["<!@(pkg-config --cflags ostree-1)", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["<!@(pkg-config --libs ostree-1)"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "G_LOG_DOMAIN=\"atomic-ostree\""
      ]
    }
  ]
}
