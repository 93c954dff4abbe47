"""Code the benchmarks run in a fresh timed process (not a benchmark itself: `make bench` skips it)."""

#: Defines `peak_gib()`: the process's peak resident memory in GiB, the VmHWM of /proc/self/status.
#: ru_maxrss would carry over the parent's high-water mark across fork and exec.
PEAK_GIB = """
import resource

def peak_gib():
    try:
        with open("/proc/self/status") as status:
            line = next(x for x in status if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 2**20
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
"""
