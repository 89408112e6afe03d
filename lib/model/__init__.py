"""What is trained, and on what: Fashion-MNIST (``data``, ``augment``) and the ResNet-34
family of the paper (``resnet``, built from ``conv``), and N such models as one wide
model (``wide``). Imports only ``lib.core``."""
