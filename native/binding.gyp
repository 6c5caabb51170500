{
  # node-addon-api bindings: libostree (atomic_ostree) and the ISO writer's file system calls (atomic_fs_tree).
  # libostree (Debian libostree-dev: pkg-config ostree-1 brings gio,
  # gobject and glib). Build: npm run build:native (= node-gyp rebuild -C native).
  "targets": [
    {
      # Per-entry file system work of `atomic iso create` (src/adapters/fs-tree): kernel copies,
      # directory listings with lstat data. libc only, so it loads in microseconds (the libostree addon's GLib start-up does not).
      "target_name": "atomic_fs_tree",
      "sources": ["src/fs-tree/addon.cc", "src/fs-tree/copy-file-ranges.cc", "src/fs-tree/lstat-directory.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-Wall", "-Wextra"],
      "cflags_cc": ["-fexceptions", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"]
    },
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
