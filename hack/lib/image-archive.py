#!/usr/bin/env python3
"""Image archives without a daemon or registry.

  image-archive.py pack ROOT NAME:TAG OUT.tar --entrypoint JSON [--user UID:GID] [--mtime SECONDS]
      ROOT as the single layer of a docker-archive (what `docker save` writes; `docker load`,
      `podman load`, `ctr images import` and skopeo read it). Entries are sorted, owners kept as
      numbers, modification times clamped to --mtime: the same tree gives the same image ID.
  image-archive.py list ARCHIVE
      One line per layer entry: path, type, mode, uid:gid, size or link target; then the
      configuration's Entrypoint and User. What the image tests compare.
  image-archive.py list-tree ROOT
      The same lines for a directory tree.
"""
import argparse, hashlib, io, json, os, stat, sys, tarfile, time


def entries(root):
    """(relative path, absolute path) of every entry under root, parents first, sorted."""
    result = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(directory, name)
            result.append((os.path.relpath(path, root), path))
    return sorted(result)


def pack(args):
    entrypoint = json.loads(args.entrypoint)
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, path in entries(args.root):
            info = tar.gettarinfo(path, arcname=rel)
            info.uname = info.gname = ""
            info.mtime = min(int(info.mtime), args.mtime)
            if info.type == tarfile.LNKTYPE:
                # Hard links become copies: the layer reads the same whatever order it is unpacked in.
                info.type, info.linkname, info.size = tarfile.REGTYPE, "", os.lstat(path).st_size
            if info.isreg():
                with open(path, "rb") as data:
                    tar.addfile(info, data)
            else:
                tar.addfile(info)
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(args.mtime))
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Entrypoint": entrypoint, "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": "hack/images.sh"}],
    }
    if args.user:
        config["config"]["User"] = args.user
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_id = hashlib.sha256(config_bytes).hexdigest()
    layer_dir = diff_id.split(":")[1]
    name = args.name
    repository, tag = name.rsplit(":", 1)
    manifest = [{"Config": config_id + ".json", "RepoTags": [name], "Layers": [layer_dir + "/layer.tar"]}]

    def add(tar, arcname, data):
        info = tarfile.TarInfo(arcname)
        info.size, info.mode, info.mtime = len(data), 0o644, args.mtime
        tar.addfile(info, io.BytesIO(data))

    temporary = args.out + ".partial"
    with tarfile.open(temporary, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(layer_dir)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, args.mtime
        tar.addfile(info)
        add(tar, layer_dir + "/layer.tar", layer_bytes)
        add(tar, config_id + ".json", config_bytes)
        add(tar, "manifest.json", json.dumps(manifest).encode())
        add(tar, "repositories", json.dumps({repository: {tag: layer_dir}}).encode())
    os.replace(temporary, args.out)
    print(f"{args.out}: {name} sha256:{config_id}")


def describe(info):
    kind = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink"}.get(info.type, "other")
    detail = info.linkname if kind == "symlink" else (str(info.size) if kind == "file" else "")
    name = info.name[2:] if info.name.startswith("./") else info.name.lstrip("/")
    return f"/{name} {kind} {stat.S_IMODE(info.mode):04o} {info.uid}:{info.gid} {detail}".rstrip()


def list_archive(args):
    with tarfile.open(args.archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]
        config = json.load(outer.extractfile(manifest["Config"]))
        lines = []
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                lines += [describe(info) for info in inner.getmembers()]
    for line in sorted(lines):
        print(line)
    print(f"config Entrypoint={json.dumps(config['config'].get('Entrypoint'))} User={config['config'].get('User', '')}")


def list_tree(args):
    lines = []
    for rel, path in entries(args.root):
        info = tarfile.TarInfo(rel)
        st = os.lstat(path)
        info.mode, info.uid, info.gid = st.st_mode, st.st_uid, st.st_gid
        if stat.S_ISDIR(st.st_mode):
            info.type = tarfile.DIRTYPE
        elif stat.S_ISLNK(st.st_mode):
            info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            info.size = st.st_size
        else:
            info.type = tarfile.CHRTYPE
        lines.append(describe(info))
    for line in sorted(lines):
        print(line)


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack")
    p.add_argument("root")
    p.add_argument("name")
    p.add_argument("out")
    p.add_argument("--entrypoint", required=True)
    p.add_argument("--user")
    p.add_argument("--mtime", type=int, default=0)
    p.set_defaults(run=pack)
    p = commands.add_parser("list")
    p.add_argument("archive")
    p.set_defaults(run=list_archive)
    p = commands.add_parser("list-tree")
    p.add_argument("root")
    p.set_defaults(run=list_tree)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
