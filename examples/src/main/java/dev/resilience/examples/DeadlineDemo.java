package dev.resilience.examples;
public final class DeadlineDemo { public static void main(String[] a) {} }
