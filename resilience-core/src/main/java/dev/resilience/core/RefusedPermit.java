package dev.resilience.core;

/** The shared refused permits of the guards that have no per-state detail to carry. */
final class RefusedPermit implements Permit {

    static final Permit BULKHEAD = new RefusedPermit("bulkhead full");
    static final Permit ADAPTIVE = new RefusedPermit("concurrency limit reached");

    private final String why;

    private RefusedPermit(String why) {
        this.why = why;
    }

    @Override
    public boolean isPermitted() {
        return false;
    }

    @Override
    public void onSuccess() {
    }

    @Override
    public void onFailure(Throwable failure) {
    }

    @Override
    public void onExcluded() {
    }

    @Override
    public void release() {
    }

    @Override
    public String toString() {
        return "NotPermitted[" + why + "]";
    }
}
