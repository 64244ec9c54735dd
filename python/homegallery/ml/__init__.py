"""Machine-learned labels for media: ImageNet classes and the words they are found by."""
