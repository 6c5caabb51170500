#!/usr/bin/python3
"""Differential-test oracle: Debian's real cloud-init reads a NoCloud seed directory.

usage: nocloud.py SEED_DIR WORK_DIR
Runs cloud-init's DataSourceNoCloud against SEED_DIR with every cloud-init path redirected into
WORK_DIR (nothing on the host is read or written), then its UserDataProcessor on the user-data.
Prints one JSON object: found, instance_id, hostname, metadata, network_config, userdata_raw,
vendordata_raw, the content type of every user-data part, and the merged cloud-config that
cloud-init's own CloudConfigPartHandler makes of the user-data (merge_how / X-Merge-Type honoured).
"""
import json
import os
import shutil
import sys

from cloudinit import distros, helpers, util
from cloudinit.handlers.cloud_config import CloudConfigPartHandler
from cloudinit.sources import DataSourceNoCloud
from cloudinit.user_data import UserDataProcessor


def main(seed_dir, work_dir):
    work_dir = os.path.abspath(work_dir)
    cloud_dir = os.path.join(work_dir, "cloud")
    run_dir = os.path.join(work_dir, "run")
    # NoCloud's first place to look is <cloud_dir>/seed/nocloud: copy the seed there.
    target = os.path.join(cloud_dir, "seed", "nocloud")
    os.makedirs(run_dir, exist_ok=True)
    shutil.copytree(seed_dir, target)
    paths = helpers.Paths({"cloud_dir": cloud_dir, "run_dir": run_dir, "templates_dir": "/etc/cloud/templates"})
    # fs_label None: do not probe the host's block devices for a cidata label.
    sys_cfg = {"datasource": {"NoCloud": {"fs_label": None}}}
    distro = distros.fetch("debian")("debian", {}, paths)
    ds = DataSourceNoCloud.DataSourceNoCloud(sys_cfg, distro, paths)
    found = ds.get_data()
    out = {"found": bool(found)}
    if found:
        paths.datasource = ds
        parts = UserDataProcessor(paths).process(ds.userdata_raw)
        handler = CloudConfigPartHandler(paths)
        handler.handle_part(None, "__begin__", None, None, None, None)
        for p in parts.walk():
            if p.is_multipart() or p.get_content_type() not in handler.list_types():
                continue
            handler.handle_part(None, p.get_content_type(), p.get_filename(), util.fully_decoded_payload(p), None, dict(p.items()))
        handler.handle_part(None, "__end__", None, None, None, None)
        merged = util.load_yaml(util.load_file(handler.cloud_fn)) if os.path.exists(handler.cloud_fn) else None
        out.update({
            "instance_id": ds.get_instance_id(),
            "hostname": ds.get_hostname().hostname,
            "metadata": ds.metadata,
            "network_config": ds.network_config,
            "userdata_raw": ds.userdata_raw.decode("utf-8", "replace") if isinstance(ds.userdata_raw, bytes) else ds.userdata_raw,
            "vendordata_raw": ds.vendordata_raw.decode("utf-8", "replace") if isinstance(ds.vendordata_raw, bytes) else ds.vendordata_raw,
            "parts": [p.get_content_type() for p in parts.walk() if not p.is_multipart()],
            "cloud_config": merged,
        })
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
