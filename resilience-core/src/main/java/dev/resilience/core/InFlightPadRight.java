package dev.resilience.core;

/** Right padding; the read-mostly fields of the bulkhead or limiter follow it. */
abstract class InFlightPadRight extends InFlightCounter {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}
