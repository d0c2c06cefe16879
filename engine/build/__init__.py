"""Image builds from Dockerfiles (`berth build`, `berth apply` kind image with a build source).

Layout, like buildkit's frontend:

    parser.py        text -> AST with line numbers (directives, continuations, heredocs, flags)
    instructions.py  AST -> typed, validated instructions grouped in stages; `--check`
    shell_lex.py     word expansion with Docker's rules ($V, ${V:-x}, quotes, escapes)
    dockerignore.py  .dockerignore patterns (moby's patternmatcher rules)
    copier.py        COPY/ADD sources, content digests, copying, ADD archive extraction
    executor.py      stages and steps, config changes, layers, the cache
    cache.py         step key -> image
    _runner.py       RUN steps (the containers area's run_step, or a stand-in)
    api.py           build() / build_text()

Decisions (where Docker leaves room):
- RUN network: `default` is what `docker build` uses, a bridge (passed to run_step as
  "bridge"); `--network none|host` and `RUN --network=` override it. `RUN --mount` and
  `--security` are refused with a clear error.
- Every step commits an untagged image (Docker classic's intermediate images); metadata-only
  steps get history entries with `empty_layer: true`; a RUN that changes nothing adds no layer.
- Cache key: parent image, current config, instruction after expansion, build args visible to
  RUN (not the proxy args), and for COPY/ADD the names, types, modes, owners and contents of
  the sources (not mtimes) or, for `--from`, the source image ID.
- WORKDIR creates a missing directory (and parents) owned by the current USER, as BuildKit
  does (the classic builder made them root's, so `USER app` + `WORKDIR /app` + `RUN touch x`
  failed).
- Ownership of copied files: `--chown` when given; else root for context sources and, for
  `COPY --from=stage|image`, the owner each file has in the source (what Docker does). A hit reuses the image as is,
  `created` times included, so rebuilding unchanged input gives the same image ID;
  `--no-cache` gives new timestamps (a new ID), as in Docker, unless
  `--build-arg SOURCE_DATE_EPOCH=<seconds>` fixes them (then a rebuild whose layers come out
  byte-identical, e.g. COPY of unchanged files, gives the same ID again).
- Sources are looked up in the context only: `..` that leaves it and symlinks that point out of
  it are refused; files excluded by .dockerignore do not exist for COPY/ADD. Destinations are
  resolved inside the image's root filesystem.
- ADD unpacks local tar archives (plain, gzip, bzip2, xz, zstd) with the image store's safe
  unpacker; URLs are downloaded (mode 0600 unless --chmod, `--checksum` verified), never
  unpacked.
"""
