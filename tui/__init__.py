"""corral's faces: the command line now, the Textual dashboard on top of the same supervisor."""
