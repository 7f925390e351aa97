"""What pairs.py and compare.py share: the application started and its arguments, the exclusion of the
starter's auto-configurations, one start in a fresh JVM, and the bootstrap interval of a median.
The application: STARTUP_APP=test (the default) is StartupCostTest's (no web server; the starter
module's test class path, Spring Cloud and WebFlux included); STARTUP_APP=checkout is
examples/spring-boot-checkout's CheckoutApplication as it runs (Tomcat on a free port, Actuator,
Prometheus), started by its test class CheckoutStartup: its class path is the example's runtime class
path plus its target/classes and target/test-classes (as jars when a CDS archive or an AOT cache is used:
the JVM archives classes from jars only). STARTUP_JAVA names the java to run (default: java on PATH)."""
import os, random, re, statistics, subprocess, sys

APPS = {
    "test": ("dev.resilience.spring.StartupCostTest",
             ["--resilience.retry.payments.max-attempts=3", "--resilience.circuitbreaker.payments.consecutive-failures=5",
              "--resilience.ratelimiter.api.rate=50/s", "--resilience.bulkhead.api.max-concurrent=10",
              "--logging.level.root=WARN"]),
    "checkout": ("dev.resilience.examples.boot.CheckoutStartup",
                 ["--server.port=0", "--payments.url=http://127.0.0.1:9", "--logging.level.root=WARN"]),
}
MAIN, ARGS = APPS[os.environ.get("STARTUP_APP", "test")]
EX = "--spring.autoconfigure.exclude=" + ",".join("dev.resilience.spring.autoconfigure." + c for c in
      ["ResilienceAutoConfiguration", "ResilienceWebAutoConfiguration", "ResilienceActuatorAutoConfiguration",
       "ResilienceWebFluxAutoConfiguration", "ResilienceCloudAutoConfiguration"])

JAVA = os.environ.get("STARTUP_JAVA", "java")  # another JDK's java, e.g. /usr/lib/jvm/temurin-25-jdk-amd64/bin/java

def command(cp, jvm_flags, with_starter):
    """The java command line of one start."""
    return [JAVA] + jvm_flags + ["-cp", cp, MAIN] + ARGS + ([] if with_starter else [EX])

def start(cp, jvm_flags, with_starter, label):
    """One start in a fresh JVM: (wall ms, starting thread's CPU ms); exits the script if it failed."""
    # With an archive named, a start that cannot use it fails (it would run without it, silently, on
    # -Xshare:auto); JDK 25 refuses an -Xshare flag beside an AOT cache, whose own switch is AOTMode.
    if any(f.startswith("-XX:AOTCache=") for f in jvm_flags):
        share = ["-XX:AOTMode=on"]
    elif any(f.startswith("-XX:SharedArchiveFile=") for f in jvm_flags):
        share = ["-Xshare:on"]
    else:
        share = ["-Xshare:auto"]
    p = subprocess.run(command(cp, share + jvm_flags, with_starter), capture_output=True, text=True)
    m = re.search(r"startup-ms=(\d+) cpu-ms=(\d+) answer=(\w+)", p.stdout)
    if p.returncode != 0 or m is None:
        sys.exit(f"a start of {label} failed (exit {p.returncode}):\n{p.stdout}\n{p.stderr}")
    # The answer shows the starter was on or off as asked: StartupCostTest's fallback-guarded call
    # answers "paid" either way; CheckoutStartup names the service's class, a proxy only with the starter.
    proxied = "SpringCGLIB" in m.group(3)
    if (MAIN == APPS["test"][0] and m.group(3) != "paid") or (MAIN == APPS["checkout"][0] and proxied != with_starter):
        sys.exit(f"a start of {label} answered {m.group(3)}: the starter was not {'on' if with_starter else 'off'}")
    return int(m.group(1)), int(m.group(2))

ARCHIVES = (("-XX:SharedArchiveFile=", "-XX:ArchiveClassesAtExit="), ("-XX:AOTCache=", "-XX:AOTCacheOutput="))

def train(cp, flags, with_starter):
    """Makes each CDS archive or AOT cache that flags name and that does not exist yet, by one start of
    the variant that will use it, with its other flags (a training run): -XX:SharedArchiveFile= by
    -XX:ArchiveClassesAtExit=, -XX:AOTCache= by -XX:AOTCacheOutput=. An existing file is kept: delete
    it when the class path changed (a start that cannot use it then fails, see start)."""
    others = [f for f in flags if not any(f.startswith(use) for use, _ in ARCHIVES)]
    for f in flags:
        for use, make in ARCHIVES:
            path = f.partition(use)[2]
            if path and not os.path.exists(path):
                print(f"training start for {path}", file=sys.stderr, flush=True)
                subprocess.run(command(cp, others + [make + path], with_starter), capture_output=True, check=True)

def boot(d):
    """A bootstrap 95 % interval of the median of d (2,000 resamples, seeded)."""
    random.seed(1); ms = sorted(statistics.median(random.choices(d, k=len(d))) for _ in range(2000))
    return ms[50], ms[1950]
