package dev.resilience.examples.boot;

/**
 * What checkout answers: paid, or queued for later (the fallback) with the reason.
 *
 * @param order the order
 * @param paid whether payments took it now
 * @param detail payments' answer, or why it was queued
 */
public record Receipt(String order, boolean paid, String detail) {
}
