#!/bin/sh
# Prints the interpreter to build the virtual environment with: python3.13 (the Lambda runtime)
# where one exists, else any Python >= 3.11. A pyenv shim for an inactive version fails to run,
# so pyenv's own install folders are tried as well.
pyenv_root=$(pyenv root 2>/dev/null)
for candidate in python3.13 "$pyenv_root"/versions/3.13*/bin/python3.13 \
                 python3.12 "$pyenv_root"/versions/3.12*/bin/python3.12 python3.11 python3; do
  if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    command -v "$candidate"
    exit 0
  fi
done
echo "find-python: no Python >= 3.11 found; install one (python3.13 preferred)" >&2
exit 1
