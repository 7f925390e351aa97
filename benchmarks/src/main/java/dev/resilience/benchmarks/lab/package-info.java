/**
 * The overload lab (issue 21): an open-loop experiment on loopback measuring what each protection
 * setup (no protection, Resilience4j, Failsafe, this toolkit) does for a service whose dependency
 * fails, slows down, goes away or is overloaded. Entry point: {@link dev.resilience.benchmarks.lab.OverloadLab}.
 */
package dev.resilience.benchmarks.lab;
