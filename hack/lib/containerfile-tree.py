#!/usr/bin/env python3
"""containerfile-tree.py CONTAINERFILE OUT_DIR: the final image's file tree as the Containerfile
would make it, built on this host without a container engine or registry.

Only what images/*/Containerfile use is understood, and anything else is refused, so the image
tests notice when a Containerfile grows an instruction this cannot follow:
  FROM IMAGE [AS NAME]     a stage; its root is a scratch directory here
  WORKDIR DIR              the directory later RUNs start in
  COPY SRC DST             from the repository: bound, not copied (`COPY . .` binds WORKDIR)
  COPY --from=STAGE SRC DST  copied from that stage
  RUN apt-get ...          a build stage's toolchain packages: this host has them (hack/setup.sh)
  RUN COMMAND              run here, with the stage's absolute paths mapped to this host
  USER, ENTRYPOINT         the final stage's, printed as JSON
The last stage must be FROM scratch; OUT_DIR receives its tree.
"""
import json, os, shlex, shutil, subprocess, sys, tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def instructions(path):
    logical, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            logical.append((current + line).strip())
            current = ""
    for line in logical:
        keyword, _, rest = line.partition(" ")
        yield keyword.upper(), rest.strip()


class Stage:
    def __init__(self, base, scratch):
        self.base = base
        self.root = tempfile.mkdtemp(prefix="stage-", dir=scratch)
        self.binds = {}  # stage path -> host path
        self.workdir = "/"

    def host(self, path):
        """The host path of an absolute path inside the stage."""
        path = os.path.normpath(path)
        for prefix in sorted(self.binds, key=len, reverse=True):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return os.path.join(self.binds[prefix], os.path.relpath(path, prefix))
        return os.path.join(self.root, path.lstrip("/"))

    def absolute(self, path):
        return os.path.normpath(path if path.startswith("/") else os.path.join(self.workdir, path))


def fail(message):
    print(f"containerfile-tree: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        fail("usage: containerfile-tree.py CONTAINERFILE OUT_DIR")
    containerfile, out = sys.argv[1], os.path.abspath(sys.argv[2])
    scratch = tempfile.mkdtemp(prefix="containerfile-")
    stages, names, stage = [], {}, None
    config = {"Entrypoint": None, "User": ""}
    try:
        for keyword, rest in instructions(containerfile):
            if keyword == "FROM":
                words = rest.split()
                stage = Stage(words[0], scratch)
                stages.append(stage)
                if len(words) == 3 and words[1].upper() == "AS":
                    names[words[2]] = stage
                elif len(words) != 1:
                    fail(f"FROM {rest}: expected IMAGE [AS NAME]")
            elif stage is None:
                fail(f"{keyword} before FROM")
            elif keyword == "WORKDIR":
                stage.workdir = stage.absolute(rest)
            elif keyword == "COPY":
                words = shlex.split(rest)
                source_stage = None
                if words[0].startswith("--from="):
                    source_stage = names.get(words[0][len("--from="):]) or fail(f"COPY {rest}: no such stage")
                    words = words[1:]
                if len(words) != 2 or words[0].startswith("--"):
                    fail(f"COPY {rest}: expected [--from=STAGE] SRC DST")
                source, destination = words[0], stage.absolute(words[1])
                if source_stage is None:
                    # The build context: bound into the stage, so RUNs read the repository itself.
                    stage.binds[destination] = os.path.normpath(os.path.join(REPO, source))
                else:
                    from_path = source_stage.host(source_stage.absolute(source))
                    to_path = stage.host(destination)
                    os.makedirs(to_path, exist_ok=True)
                    subprocess.run(["cp", "-a", "--", from_path.rstrip("/") + "/.", to_path], check=True)
            elif keyword == "RUN":
                if rest.startswith("apt-get "):
                    continue  # the build stage's toolchain: hack/setup.sh installs it on this host
                words = [stage.host(w) if w.startswith("/") else w for w in shlex.split(rest)]
                if any(w in ("&&", "||", ";", "|") for w in words):
                    fail(f"RUN {rest}: one command per RUN")
                subprocess.run(words, cwd=stage.host(stage.workdir), check=True, stdout=sys.stderr)
            elif keyword == "USER":
                config["User"] = rest
            elif keyword == "ENTRYPOINT":
                config["Entrypoint"] = json.loads(rest)
            else:
                fail(f"{keyword}: not understood here")
        final = stages[-1] if stages else fail("no FROM")
        if final.base != "scratch":
            fail(f"the last stage starts FROM {final.base}, not scratch")
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
        subprocess.run(["cp", "-a", "--", final.root + "/.", out], check=True)
        os.chmod(out, 0o755)
        print(json.dumps(config))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
